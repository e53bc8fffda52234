@testable import EmmyApp
import Foundation
import Testing

/// `app.database`'s DSN and the password beside it: the password is never taken from the DSN.
@Suite struct PostgresSettingsTests {
    @Test func aDSNGivesUserHostPortAndDatabase() throws {
        let settings = try PostgresSettings(dsn: "postgres://emmy@db.internal:6543/sms", tls: .verifyFull)
        #expect(settings == PostgresSettings(user: "emmy", host: "db.internal", port: 6543, database: "sms", tls: .verifyFull))
        #expect(settings.dsn == "postgres://emmy@db.internal:6543/sms")
        #expect(try PostgresSettings(dsn: "postgresql://emmy@[::1]/sms").host == "::1")
        #expect(try PostgresSettings(dsn: "postgres://emmy@127.0.0.1/sms").port == 5432)
        #expect(DatabaseChoice.postgres(try PostgresSettings(dsn: "postgres://emmy@[::1]/sms")).description == "postgres://emmy@[::1]:5432/sms")
    }

    @Test(arguments: [
        ("postgres://emmy:hunter2@db/sms", PostgresSettings.DSNError.password),
        ("postgres://emmy:@db/sms", .password),
        ("mysql://emmy@db/sms", .scheme("mysql")),
        ("sqlite3", .scheme("sqlite3")),
        ("postgres://db/sms", .missing("user (postgres://USER@host/db)")),
        ("postgres://emmy@db", .missing("database name (postgres://user@host/DB)")),
        ("postgres://emmy@:5432/sms", .missing("host")),
        ("postgres://emmy@db:99999/sms", .port("99999")),
        ("postgres://emmy@db/sms?sslmode=disable", .parameters),
    ])
    func aBadDSNIsRefusedWithItsReason(_ dsn: String, _ expected: PostgresSettings.DSNError) {
        #expect(throws: expected) { try PostgresSettings(dsn: dsn) }
    }

    @Test func thePasswordComesFromTheFileElseTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("emmy-pw-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("s3cret\r\nignored\n".utf8).write(to: file)
        var settings = PostgresSettings(user: "emmy", host: "db", database: "sms")
        let environment = [PostgresSettings.passwordVariable: "from-env"]
        #expect(try settings.password(environment: environment) == "from-env")
        #expect(try settings.password(environment: [:]) == nil)
        settings.passwordFile = file.path
        #expect(try settings.password(environment: environment) == "s3cret")
        settings.passwordFile = file.path + ".missing"
        #expect(throws: PostgresSettings.PasswordError.self) { try settings.password(environment: environment) }
    }
}
