import Hummingbird

/// Counts every request in `emmy_http_requests_total` and times it, by route template (never
/// the raw path, whose ids would explode the label space).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: AppMetrics

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func record(_ status: Int) {
            metrics.requestServed(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status,
                                  seconds: (ContinuousClock.now - started).seconds)
        }
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status.code)
            throw error
        } catch {
            record(500)
            throw error
        }
    }
}
