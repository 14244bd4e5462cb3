//! Argon2id password hashing with bounded work.
//!
//! Every login and every wrong Basic password costs one Argon2 run (19 MiB by default).
//! Run on tokio's blocking pool, a storm of logins would start up to 512 of them at once,
//! starve forward-auth of CPU and leave gigabytes in per-thread allocator arenas. So
//! hashing runs on a fixed set of worker threads (about one per core), each reusing its
//! own Argon2 memory blocks, fed by a short queue; when the queue is full the caller gets
//! `Busy` at once instead of waiting. A job whose caller went away (client disconnected)
//! is skipped rather than computed.
//!
//! Hashing into caller-provided memory means building and checking the PHC string here
//! (`hash_password_into_with_memory` is the argon2 crate's way to reuse memory; its
//! `PasswordHasher`/`PasswordVerifier` traits allocate per call).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::config::PasswordConfig;
use crate::error::AppError;

#[derive(Clone)]
pub struct PasswordHasher {
    /// Jobs queued or running, and how many may be.
    in_flight: Arc<AtomicUsize>,
    capacity: usize,
    /// A hash of a random password, verified against when the user does not exist so
    /// that an unknown user costs the same time as a wrong password.
    dummy_hash: Arc<str>,
    queue: SyncSender<Job>,
}

/// The outcome of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Correct, but hashed with other parameters than the current ones: rehash it.
    MatchNeedsRehash,
}

enum Work {
    Hash(String),
    Verify { password: String, stored: Arc<str> },
}

enum Done {
    Hashed(anyhow::Result<String>),
    Verified(Verification),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Done>,
    /// Gives the job's place back when the job is done or dropped.
    _slot: Slot,
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordHasher {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<Self> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let mut memory = Vec::new();
        let dummy_hash = hash_with(&params, &crate::crypto::random_token(), &mut memory)?.into();
        // Default: half the cores. Measured on 2 cores (BENCHMARKS.md): with one hashing
        // thread per core a login storm leaves forward-auth 54% of its throughput and a
        // 17 ms p99; with half of them, 66% and 6.2 ms.
        let workers = match config.hash_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        };
        let capacity = workers + config.hash_queue.max(1);
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..workers {
            let jobs = jobs.clone();
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&jobs, &params))?;
        }
        Ok(Self {
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity,
            dummy_hash,
            queue,
        })
    }

    /// Whether a check would be queued now. Callers ask before doing other work for a
    /// login (throttle writes), so that a storm is turned away cheaply; `run` still
    /// decides for real.
    pub fn has_room(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) < self.capacity
    }

    /// Queues `work`, or refuses with `Busy` when every worker is busy and the queue is
    /// full.
    async fn run(&self, work: Work) -> Result<Done, AppError> {
        let taken = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(AppError::Busy);
        }
        let slot = Slot(self.in_flight.clone());
        let (reply, done) = oneshot::channel();
        match self.queue.try_send(Job {
            work,
            reply,
            _slot: slot,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AppError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "password hashing workers are gone"
                )));
            }
        }
        done.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a password hashing worker failed")))
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        match self.run(Work::Hash(password)).await? {
            Done::Hashed(h) => h.map_err(AppError::Internal),
            Done::Verified(_) => Err(AppError::Internal(anyhow::anyhow!("wrong reply"))),
        }
    }

    /// Checks `password` against `stored`, or against the dummy hash when `stored` is
    /// None. `Busy` when too many checks are already waiting.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verification, AppError> {
        let (stored, real) = match stored {
            Some(h) => (Arc::from(h), true),
            None => (self.dummy_hash.clone(), false),
        };
        let outcome = match self.run(Work::Verify { password, stored }).await? {
            Done::Verified(v) => v,
            Done::Hashed(_) => Verification::Mismatch,
        };
        Ok(if real {
            outcome
        } else {
            Verification::Mismatch
        })
    }
}

/// A worker: takes jobs until the hasher is dropped, with one memory area reused.
fn worker(jobs: &Mutex<Receiver<Job>>, params: &Params) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        if job.reply.is_closed() {
            // The request was abandoned while queued: no point hashing for nobody.
            continue;
        }
        let done = match job.work {
            Work::Hash(password) => Done::Hashed(hash_with(params, &password, &mut memory)),
            Work::Verify { password, stored } => {
                Done::Verified(verify_with(params, &password, &stored, &mut memory))
            }
        };
        let _ = job.reply.send(done);
    }
}

/// The first `count` blocks of `memory`, grown (once) when needed.
fn blocks(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

fn hash_with(params: &Params, password: &str, memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

fn verify_with(
    current: &Params,
    password: &str,
    stored: &str,
    memory: &mut Vec<Block>,
) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    // Verification follows the parameters recorded in the hash itself.
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.hash,
        parsed.salt,
    ) else {
        return Verification::Mismatch;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return Verification::Mismatch;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    if argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .is_err()
        || !bool::from(out.ct_eq(expected.as_bytes()))
    {
        return Verification::Mismatch;
    }
    let up_to_date = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && params.m_cost() == current.m_cost()
        && params.t_cost() == current.t_cost()
        && params.p_cost() == current.p_cost();
    if up_to_date {
        Verification::Match
    } else {
        Verification::MatchNeedsRehash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn light(memory: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_memory_kib: memory,
            argon2_iterations: 1,
            argon2_parallelism: 1,
            min_length: 1,
            hash_workers: 1,
            hash_queue: 4,
            ..PasswordConfig::default()
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        let stored = h.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            h.verify("correct horse".into(), Some(stored.clone()))
                .await
                .unwrap(),
            Verification::Match
        );
        assert_eq!(
            h.verify("wrong".into(), Some(stored)).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn reads_hashes_made_by_the_argon2_crate_itself() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let params = Params::new(64, 1, 1, None).unwrap();
        let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let h = PasswordHasher::new(&light(64)).unwrap();
        assert_eq!(
            h.verify("pw".into(), Some(stored.clone())).await.unwrap(),
            Verification::Match
        );
        // And the crate accepts ours.
        use argon2::PasswordVerifier as _;
        let ours = h.hash("pw".into()).await.unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        assert_eq!(
            h.verify("anything".into(), None).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_rehash() {
        let old = PasswordHasher::new(&light(64)).unwrap();
        let new = PasswordHasher::new(&light(128)).unwrap();
        let stored = old.hash("pw".into()).await.unwrap();
        assert_eq!(
            new.verify("pw".into(), Some(stored)).await.unwrap(),
            Verification::MatchNeedsRehash
        );
    }

    #[tokio::test]
    async fn garbage_hash_is_a_mismatch() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        assert_eq!(
            h.verify("pw".into(), Some("not a hash".into()))
                .await
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_at_once() {
        // One worker, a queue of one, slow hashes: of many checks at once, most must be
        // refused straight away instead of piling up.
        let mut config = light(8 * 1024);
        config.argon2_iterations = 8;
        config.hash_queue = 1;
        let h = PasswordHasher::new(&config).unwrap();
        let stored = h.hash("pw".into()).await.unwrap();
        let checks: Vec<_> = (0..20)
            .map(|_| {
                let h = h.clone();
                let stored = stored.clone();
                tokio::spawn(async move { h.verify("pw".into(), Some(stored)).await })
            })
            .collect();
        let mut busy = 0;
        let mut checked = 0;
        for c in checks {
            match c.await.unwrap() {
                Err(AppError::Busy) => busy += 1,
                Ok(Verification::Match) => checked += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(busy + checked, 20);
        assert!(busy >= 10, "only {busy} of 20 refused");
        assert!(checked >= 1);
    }
}
