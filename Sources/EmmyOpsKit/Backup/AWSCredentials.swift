import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// AWS credentials, found the way the SDKs find them: the environment, then a profile of the
/// shared credentials file, then the EC2 instance metadata service (IMDSv2), which is how a host
/// the rendered Terraform created gets its instance profile's keys.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient) async throws -> AWSCredentials {
        if let found = fromEnvironment(environment) { return found }
        if let found = try fromProfile(environment) { return found }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw BackupError.configuration("no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile in ~/.aws/credentials")
        }
        return try await fromInstanceMetadata(environment, client: client)
    }

    static func fromEnvironment(_ environment: [String: String]) -> AWSCredentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `[profile]` of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); the profile is
    /// AWS_PROFILE, else `default`. An explicitly named profile that is missing is an error.
    static func fromProfile(_ environment: [String: String]) throws -> AWSCredentials? {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let profile = environment["AWS_PROFILE"] ?? "default"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            if environment["AWS_PROFILE"] != nil { throw BackupError.configuration("AWS_PROFILE=\(profile), but \(file) cannot be read") }
            return nil
        }
        var section: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            if environment["AWS_PROFILE"] != nil { throw BackupError.configuration("profile `\(profile)` in \(file) has no aws_access_key_id/aws_secret_access_key") }
            return nil
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }

    /// IMDSv2: a session token by PUT, then the role's temporary keys. The endpoint can be
    /// moved with AWS_EC2_METADATA_SERVICE_ENDPOINT, as the SDKs allow.
    static func fromInstanceMetadata(_ environment: [String: String], client: HTTPClient) async throws -> AWSCredentials {
        let base = (environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        func call(_ method: HTTPMethod, _ path: String, headers: [(String, String)]) async throws -> String {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: .seconds(2))
            } catch {
                throw BackupError.configuration("no AWS credentials in the environment or ~/.aws/credentials, and the instance metadata service at \(base) did not answer (\(error))")
            }
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            guard response.status == .ok else { throw BackupError.configuration("instance metadata \(path): HTTP \(response.status.code)") }
            return body
        }
        let token = try await call(.PUT, "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "300")])
        let auth = [("X-aws-ec2-metadata-token", token)]
        let roles = try await call(.GET, "/latest/meta-data/iam/security-credentials/", headers: auth)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init) else {
            throw BackupError.configuration("the instance has no IAM role (instance profile)")
        }
        let document = try await call(.GET, "/latest/meta-data/iam/security-credentials/\(role)", headers: auth)
        struct Keys: Decodable { var AccessKeyId: String; var SecretAccessKey: String; var Token: String? }
        guard let keys = try? JSONDecoder().decode(Keys.self, from: Data(document.utf8)) else {
            throw BackupError.configuration("instance metadata returned unreadable credentials for role \(role)")
        }
        return AWSCredentials(accessKeyID: keys.AccessKeyId, secretAccessKey: keys.SecretAccessKey, sessionToken: keys.Token)
    }
}
