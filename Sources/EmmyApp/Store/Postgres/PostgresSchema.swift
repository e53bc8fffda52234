/// EmmyApp's tables in PostgreSQL's dialect: the SQLite schema as its migrations leave it
/// (AppDatabase.swift and its extensions), with PostgreSQL's types (timestamptz, boolean,
/// identity keys), plus what sharing one database between replicas needs:
///
/// - `dedupe_entry`: the last time each (number, text) pair was queued. Ingest upserts it, so
///   two replicas ingesting the same pair at once are decided by the row lock PostgreSQL takes
///   on the conflict, where the SQLite engine relies on its single writer.
/// - `send_run`: each sending replica's heartbeat, so a replica's claims are recovered when its
///   heartbeat stops, not when some other replica merely starts.
/// - `batch.ingest_run`: the process ingesting an open batch, so a replica closes the batches
///   of a dead one, not those another replica is still ingesting.
public enum PostgresSchema {
    public static let migrations: [PostgresMigration] = [
        PostgresMigration("2026-12-01 batches, messages, rejections, tokens", [
            """
            CREATE TABLE batch (
                id text PRIMARY KEY,
                created_at timestamptz NOT NULL,
                source text NOT NULL CHECK (source IN ('json', 'csv')),
                template text NOT NULL,
                client text,
                file_name text,
                accepted integer NOT NULL DEFAULT 0 CHECK (accepted >= 0),
                rejected integer NOT NULL DEFAULT 0 CHECK (rejected >= 0),
                duplicates integer NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
                complete boolean NOT NULL DEFAULT false,
                interrupted boolean NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX batch_created ON batch (created_at)",
            """
            CREATE TABLE message (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                batch_id text NOT NULL REFERENCES batch (id) ON DELETE CASCADE,
                row integer NOT NULL,
                phone text NOT NULL CHECK (phone LIKE '+%'),
                body text NOT NULL,
                body_hash bigint NOT NULL,
                encoding text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
                segments integer NOT NULL CHECK (segments >= 1),
                status text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled')),
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
                claimed_by text,
                in_doubt boolean NOT NULL DEFAULT false,
                provider_id text,
                error_code text,
                error_message text
            )
            """,
            "CREATE INDEX message_batch_status ON message (batch_id, status, id)",
            "CREATE INDEX message_status ON message (status, id)",
            "CREATE INDEX message_phone ON message (phone)",
            "CREATE INDEX message_provider ON message (provider_id) WHERE provider_id IS NOT NULL",
            // The claim's two scans, kept small: retries waiting their turn, and live claims
            // (which recovery looks through).
            "CREATE INDEX message_retry ON message (next_attempt_at) WHERE status = 'sending' AND claimed_by IS NULL",
            "CREATE INDEX message_claimed ON message (claimed_by) WHERE claimed_by IS NOT NULL",
            """
            CREATE TABLE rejection (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                batch_id text NOT NULL REFERENCES batch (id) ON DELETE CASCADE,
                row integer NOT NULL,
                field text NOT NULL,
                kind text NOT NULL,
                reason text NOT NULL,
                raw text NOT NULL
            )
            """,
            "CREATE INDEX rejection_batch ON rejection (batch_id, row)",
            """
            CREATE TABLE api_token (
                id text PRIMARY KEY,
                name text NOT NULL UNIQUE,
                hash text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL,
                revoked_at timestamptz
            )
            """,
            """
            CREATE TABLE dedupe_entry (
                phone text NOT NULL,
                body_hash bigint NOT NULL,
                queued_at timestamptz NOT NULL,
                PRIMARY KEY (phone, body_hash)
            )
            """,
        ]),
        PostgresMigration("2026-12-01 sending: opt-outs, callbacks, inbound ids, runs", [
            """
            CREATE TABLE opt_out (
                phone text PRIMARY KEY CHECK (phone LIKE '+%'),
                source text NOT NULL,
                created_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE provider_event (
                provider_id text NOT NULL,
                status text NOT NULL,
                error_code text,
                received_at timestamptz NOT NULL,
                PRIMARY KEY (provider_id, status)
            )
            """,
            """
            CREATE TABLE inbound_message (
                sid text PRIMARY KEY,
                received_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE send_run (
                id text PRIMARY KEY,
                started_at timestamptz NOT NULL DEFAULT now(),
                heartbeat_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]),
        PostgresMigration("2026-12-01 batch ingest runs", [
            "ALTER TABLE batch ADD COLUMN ingest_run text",
        ]),
    ]
}
