//! The registry: one line per provider, `Variant = "id" => module`. The line gives the
//! provider its [`ProviderId`], builds it (`module::build`) and collects its config
//! section (`module::config_section`), so that adding a provider touches nothing else.

use std::any::Any;
use std::sync::Arc;

use serde::Serialize;

use super::Provider;
use crate::config::{Config, Section};
use crate::crypto::ServerKey;
use crate::store::Store;

/// What a provider is built from.
pub struct Context<'a> {
    pub store: &'a Store,
    pub key: &'a ServerKey,
    pub config: &'a Config,
    pub audit: &'a crate::audit::Audit,
}

macro_rules! registry {
    ($($variant:ident = $id:literal => $module:ident),* $(,)?) => {
        /// Providers known to this version (some arrive in later releases: a user's state
        /// row naming one that is not registered is reported, never ignored).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ProviderId {
            $($variant),*
        }

        impl ProviderId {
            pub const ALL: &[ProviderId] = &[$(ProviderId::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ProviderId::$variant => $id),*
                }
            }
        }

        /// Every provider, in registry order (the order pages list them in).
        pub(super) fn build_all(ctx: &Context<'_>) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
            Ok(vec![$(super::$module::build(ctx)?),*])
        }

        /// The config sections the providers own, for `Config::load`.
        pub fn config_sections() -> Vec<Section> {
            [$(super::$module::config_section()),*].into_iter().flatten().collect()
        }
    };
}

registry! {
    Totp = "totp" => totp,
    BackupCodes = "backup_codes" => backup_codes,
    Webauthn = "webauthn" => webauthn,
    Push = "push" => push,
}

/// The provider of type `T` among `providers`, for the few places that need more than
/// the [`Provider`] interface (TOTP's QR image, backup codes' generation).
pub(super) fn typed<T: Provider>(providers: &[Arc<dyn Provider>]) -> anyhow::Result<Arc<T>> {
    providers
        .iter()
        .find_map(|p| {
            let any: Arc<dyn Any + Send + Sync> = p.clone();
            any.downcast::<T>().ok()
        })
        .ok_or_else(|| anyhow::anyhow!("{} is not registered", std::any::type_name::<T>()))
}
