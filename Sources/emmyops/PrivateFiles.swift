#if canImport(Glibc)
import Glibc
#endif

/// The server's data folder holds phone numbers, message bodies, drafts and tokens. Run from a
/// shell (`serve`, `up`, `supervise`), the login umask (usually 022) left them readable by
/// every local user. Under systemd this also narrows the unit's `UMask=0027` to owner-only:
/// nothing but emmyops itself (serving, backing up) reads the data folder.
enum PrivateFiles {
    /// Adds owner-only bits to the process umask once, before anything is created: folders
    /// become 0700 and files 0600 at most, and a stricter umask stays as it was. Children
    /// (the supervised server) inherit it.
    static func restrictUmask() {
        let current = umask(0o077)
        umask(current | 0o077)
    }
}
