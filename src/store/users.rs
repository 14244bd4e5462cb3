//! The `users` table.

use super::{Store, StoreError, StoreResult, conflict_on_unique};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub uid: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    /// 0 or 1 (see the migration for why not a boolean column).
    pub enabled: i64,
    pub is_admin: i64,
    pub created_at: i64,
}

/// The users whose uid or display name contains `$2` (a lower-case LIKE pattern), or
/// everyone when `$1` (the search) is empty.
macro_rules! user_filter {
    () => {
        "($1 = '' OR LOWER(uid) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\')"
    };
}

impl Store {
    /// Adds a user unless one exists whose uid differs at most by case (a conflict): the
    /// `NOT EXISTS` covers the case twins of older versions, the partial unique index
    /// on `lower(uid)` two creations at once.
    pub async fn insert_user(&self, user: &UserRow) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(uid) = $8)",
        )
        .bind(&user.uid)
        .bind(&user.display_name)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.enabled)
        .bind(user.is_admin)
        .bind(user.created_at)
        .bind(fold(&user.uid))
        .execute(&self.writer)
        .await
        .map_err(conflict_on_unique(format!("user {}", user.uid)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("user {}", user.uid)));
        }
        Ok(())
    }

    /// The user a typed name stands for, whatever its case (`DAVE` is `Dave`). Case twins
    /// (two accounts of an older version differing only by case, see migration 0012)
    /// answer only to their exact uid: a name that could be either is nobody.
    pub async fn user(&self, typed: &str) -> StoreResult<Option<UserRow>> {
        let rows = sqlx::query_as::<_, UserRow>(
            "SELECT uid, display_name, email, password_hash, enabled, is_admin, created_at
             FROM users WHERE lower(uid) = $1 ORDER BY uid LIMIT 8",
        )
        .bind(fold(typed))
        .fetch_all(&self.pool)
        .await?;
        Ok(pick_by_case(rows, typed))
    }

    /// The uids of case twins (see [`Store::user`]), in groups of the same folded name:
    /// an admin should delete (or keep only) one of each group.
    pub async fn case_twins(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT uid FROM users WHERE case_twin <> 0 ORDER BY lower(uid), uid",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One page of users by uid whose uid or display name contains `search` (any case;
    /// empty: everyone), and how many match in all. For an admin of a million accounts.
    pub async fn users_page(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<UserRow>, i64)> {
        let escaped: String = search
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let rows = sqlx::query_as::<_, UserRow>(concat!(
            "SELECT uid, display_name, email, password_hash, enabled, is_admin, created_at
             FROM users WHERE ",
            user_filter!(),
            " ORDER BY uid LIMIT $3 OFFSET $4"
        ))
        .bind(search)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query_scalar(concat!("SELECT COUNT(*) FROM users WHERE ", user_filter!()))
                .bind(search)
                .bind(&pattern)
                .fetch_one(&self.pool)
                .await?;
        Ok((rows, total))
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Whether the user's password failed the policy at their last password sign-in.
    pub async fn weak_password(&self, uid: &str) -> StoreResult<bool> {
        let weak: Option<i64> =
            sqlx::query_scalar("SELECT weak_password FROM users WHERE uid = $1")
                .bind(uid)
                .fetch_optional(&self.pool)
                .await?;
        Ok(weak.unwrap_or(0) != 0)
    }

    pub async fn set_weak_password(&self, uid: &str, weak: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET weak_password = $1 WHERE uid = $2 AND weak_password <> $1")
            .bind(i64::from(weak))
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many accounts have a password the policy refuses (never which password).
    pub async fn count_weak_passwords(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE weak_password <> 0")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Whether any user exists (at start: an empty database gets its first admin). One
    /// row read, where `COUNT(*)` read a million at that size.
    pub async fn has_users(&self) -> StoreResult<bool> {
        let first: Option<String> = sqlx::query_scalar("SELECT uid FROM users LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(first.is_some())
    }

    /// Deletes the user; memberships and sessions go with it (foreign keys cascade).
    pub async fn delete_user(&self, uid: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM users WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        not_found_if_none(done.rows_affected(), uid)?;
        // The last of a group of case twins answers to any case again.
        sqlx::query(
            "UPDATE users SET case_twin = 0 WHERE lower(uid) = $1 AND case_twin <> 0
               AND (SELECT COUNT(*) FROM users WHERE lower(uid) = $1) = 1",
        )
        .bind(fold(uid))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, uid: &str, hash: &str) -> StoreResult<()> {
        // Only a password that passed the policy is set: it is not weak.
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, weak_password = 0 WHERE uid = $2")
                .bind(hash)
                .bind(uid)
                .execute(&self.writer)
                .await?;
        self.changes.user(uid);
        not_found_if_none(done.rows_affected(), uid)
    }

    /// Replaces the hash only if it is still `old`: a rehash on login must not undo a
    /// password change that happened meanwhile.
    pub async fn replace_password_hash(
        &self,
        uid: &str,
        old: &str,
        new: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE uid = $2 AND password_hash = $3",
        )
        .bind(new)
        .bind(uid)
        .bind(old)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_user_enabled(&self, uid: &str, enabled: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET enabled = $1 WHERE uid = $2")
            .bind(i64::from(enabled))
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        not_found_if_none(done.rows_affected(), uid)
    }
}

/// The form of a uid that lookups and uniqueness compare: uids are ASCII (see
/// `accounts::names`), so ASCII lower case is the whole folding, the same as SQL `lower()`
/// in migration 0012 on both databases.
pub fn fold(uid: &str) -> String {
    uid.to_ascii_lowercase()
}

/// Of the users whose uid folds like `typed`: the one spelled exactly so, else the only
/// one. Several and none exact (case twins): nobody.
fn pick_by_case(rows: Vec<UserRow>, typed: &str) -> Option<UserRow> {
    let single = rows.len() == 1;
    let mut rows = rows.into_iter();
    if single {
        return rows.next();
    }
    rows.find(|r| r.uid == typed)
}

fn not_found_if_none(rows: u64, uid: &str) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("user {uid}")))
    } else {
        Ok(())
    }
}
