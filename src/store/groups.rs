//! The `groups` and `group_members` tables.

use super::{Store, StoreError, StoreResult, conflict_on_unique};

impl Store {
    pub async fn create_group(&self, gid: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO groups (gid, created_at) VALUES ($1, $2)")
            .bind(gid)
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(conflict_on_unique(format!("group {gid}")))?;
        Ok(())
    }

    pub async fn delete_group(&self, gid: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM groups WHERE gid = $1")
            .bind(gid)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {gid}")));
        }
        self.changes.emit(&super::changes::Change::All);
        Ok(())
    }

    pub async fn group_exists(&self, gid: &str) -> StoreResult<bool> {
        let row: Option<(String,)> = sqlx::query_as("SELECT gid FROM groups WHERE gid = $1")
            .bind(gid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every group's name, ordered (without the members: a large install has millions).
    pub async fn group_names(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT gid FROM groups ORDER BY gid")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every group with its members, ordered by name.
    pub async fn groups(&self) -> StoreResult<Vec<(String, Vec<String>)>> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT g.gid, m.uid FROM groups g LEFT JOIN group_members m ON m.gid = g.gid
             ORDER BY g.gid, m.uid",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (gid, uid) in rows {
            if out.last().map(|(g, _)| g != &gid).unwrap_or(true) {
                out.push((gid, Vec::new()));
            }
            if let (Some(uid), Some((_, members))) = (uid, out.last_mut()) {
                members.push(uid);
            }
        }
        Ok(out)
    }

    pub async fn add_member(&self, gid: &str, uid: &str) -> StoreResult<()> {
        if !self.group_exists(gid).await? {
            return Err(StoreError::NotFound(format!("group {gid}")));
        }
        // The uid as stored, whatever case the admin typed.
        let Some(user) = self.user(uid).await? else {
            return Err(StoreError::NotFound(format!("user {uid}")));
        };
        let uid = user.uid.as_str();
        sqlx::query("INSERT INTO group_members (gid, uid) VALUES ($1, $2)")
            .bind(gid)
            .bind(uid)
            .execute(&self.writer)
            .await
            .map_err(conflict_on_unique(format!("membership of {uid} in {gid}")))?;
        self.changes.user(uid);
        Ok(())
    }

    pub async fn remove_member(&self, gid: &str, uid: &str) -> StoreResult<()> {
        let stored = self.user(uid).await?.map(|u| u.uid);
        let uid = stored.as_deref().unwrap_or(uid);
        let done = sqlx::query("DELETE FROM group_members WHERE gid = $1 AND uid = $2")
            .bind(gid)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "membership of {uid} in {gid}"
            )));
        }
        self.changes.user(uid);
        Ok(())
    }

    pub async fn groups_of(&self, uid: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT gid FROM group_members WHERE uid = $1 ORDER BY gid")
                .bind(uid)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }
}
