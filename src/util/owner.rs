//! File owners as written in `dbops.toml` (`user` or `user:group`, names or
//! numbers) resolved to ids from /etc/passwd and /etc/group.

pub(crate) fn resolve_owner(text: &str) -> Result<(u32, u32), String> {
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let (uid, primary_gid) = match user.parse::<u32>() {
        Ok(uid) => (uid, None),
        Err(_) => passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 3 && f[0] == user)
            .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok())))
            .ok_or_else(|| format!("no user `{user}` on this machine"))?,
    };
    let gid = match group {
        None => primary_gid.ok_or_else(|| format!("give the group too: `{user}:GROUP`"))?,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => std::fs::read_to_string("/etc/group")
                .unwrap_or_default()
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| format!("no group `{g}` on this machine"))?,
        },
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::resolve_owner;

    #[test]
    fn resolves_owners() {
        assert_eq!(resolve_owner("0:0"), Ok((0, 0)));
        assert_eq!(resolve_owner("root"), Ok((0, 0)));
        assert!(resolve_owner("no-such-user-here").is_err());
    }
}
