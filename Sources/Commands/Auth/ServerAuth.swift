/// The server's authentication set-up, shared by every connection: whether `--auth` is on, the
/// user store (with its cache) and the failed-login throttle.
public final class ServerAuth: Sendable {
    /// `--auth`: commands need an authenticated user with the right roles (deny by default).
    public let enabled: Bool
    /// Users in `admin.system.users`, cached.
    public let users: UserStore
    /// Delays the replies to repeated failed logins from one address.
    public let throttle: AuthFailureThrottle

    /// Creates the set-up.
    public init(enabled: Bool, users: UserStore = UserStore(), throttle: AuthFailureThrottle = AuthFailureThrottle()) {
        self.enabled = enabled
        self.users = users
        self.throttle = throttle
    }
}

extension ServerAuth {
    /// Commands that may change `admin.system.users` without going through ``UserStore``.
    static let adminWrites: Set<String> = [
        "insert", "update", "delete", "findAndModify", "findandmodify", "drop", "dropDatabase", "renameCollection",
    ]

    /// Empties the user cache after a command on `admin` that may have written `system.users`
    /// directly (a root user's `insert` into it, `dropDatabase`…), so logins see the change.
    func invalidateUsersAfterAdminWrite(_ request: CommandRequest) {
        if ServerAuth.adminWrites.contains(request.name) { users.invalidate() }
    }
}
