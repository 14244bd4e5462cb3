//! `enforcement` and `enforcement_groups`.

use super::{Store, StoreError, StoreResult};

impl Store {
    /// (enforced, selected groups, excluded groups)
    pub async fn enforcement(&self) -> StoreResult<(bool, Vec<String>, Vec<String>)> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT enforced FROM enforcement WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT gid, kind FROM enforcement_groups ORDER BY gid")
                .fetch_all(&self.pool)
                .await?;
        let pick = |k: &str| {
            rows.iter()
                .filter(|(_, kind)| kind == k)
                .map(|(g, _)| g.clone())
                .collect::<Vec<_>>()
        };
        Ok((
            row.map(|(e,)| e != 0).unwrap_or(false),
            pick("enforced"),
            pick("excluded"),
        ))
    }

    /// Replaces the whole enforcement setting at once. Unknown groups are refused and
    /// nothing changes.
    pub async fn set_enforcement(
        &self,
        enforced: bool,
        groups: &[String],
        excluded: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        for g in groups.iter().chain(excluded) {
            let found: Option<(String,)> = sqlx::query_as("SELECT gid FROM groups WHERE gid = $1")
                .bind(g)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!("group {g}")));
            }
        }
        sqlx::query(
            "INSERT INTO enforcement (id, enforced) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET enforced = excluded.enforced",
        )
        .bind(i64::from(enforced))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM enforcement_groups")
            .execute(&mut *tx)
            .await?;
        for (list, kind) in [(groups, "enforced"), (excluded, "excluded")] {
            for g in list {
                sqlx::query("INSERT INTO enforcement_groups (gid, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(g)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
