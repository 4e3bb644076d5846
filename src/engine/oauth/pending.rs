//! Logins started and not yet finished: `<state>/codex-profiler/pending.json` (folder 0700,
//! file 0600, written atomically: temp file, fsync, rename, fsync the folder).
//!
//! Rules:
//! - One pending login per profile name: starting again replaces it (whoever started it), so
//!   a profile never has two valid states.
//! - An entry expires 15 minutes after it was made; expired entries are pruned on every write.
//! - An entry is used once: [`PendingLogins::take`] removes it *before* the code is exchanged,
//!   so even a failed exchange consumes it. The authorization code is single-use at the server
//!   anyway, and keeping the verifier around after its code was sent would only let a replayed
//!   callback try again. A failed finish therefore needs a new `auth start`.
//! - Concurrent writers (the bot and the CLI) are not locked against each other: each write
//!   is atomic, and the worst case of a race is one lost start that the user repeats.
//! - The temp file of a write is named as [`crate::engine::store::leftovers`] says; one a
//!   killed writer left is swept by the next write once it is a minute old.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::pkce::{LoginSecrets, constant_time_eq};
use super::{LOGIN_TTL_MS, OAuthError, Requester};
use crate::engine::store::StoreError;
use crate::engine::store::leftovers;
use crate::engine::store::lock::{self, LockGuard};
use crate::secret::Secret;

/// One pending login as stored. The verifier and state are secrets in memory too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    profile: String,
    requester: String,
    #[serde(serialize_with = "redact::expose_secret")]
    state: Secret<String>,
    #[serde(serialize_with = "redact::expose_secret")]
    verifier: Secret<String>,
    created_at_ms: i64,
    expires_at_ms: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    #[serde(default)]
    logins: Vec<Entry>,
}

/// What a successful [`PendingLogins::take`] hands back.
#[derive(Debug)]
pub struct Taken {
    /// The profile name the login was started for.
    pub profile: String,
    /// The PKCE verifier to send with the code.
    pub verifier: Secret<String>,
}

/// A pending login as shown to users: no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSummary {
    /// Profile name.
    pub profile: String,
    /// Who started it.
    pub requester: String,
    /// When it expires, ms since the epoch.
    pub expires_at_ms: i64,
}

/// The pending-login file of one state directory.
#[derive(Debug, Clone)]
pub struct PendingLogins {
    dir: PathBuf,
}

impl PendingLogins {
    /// The file under `<state_dir>/codex-profiler/`.
    pub fn at(state_dir: &Path) -> PendingLogins {
        PendingLogins {
            dir: state_dir.join("codex-profiler"),
        }
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join("pending.json")
    }

    /// Record a started login for `profile`, replacing any other for the same profile.
    /// Returns its expiry (ms since the epoch).
    pub fn put(
        &self,
        profile: &str,
        requester: &Requester,
        secrets: &LoginSecrets,
        now_ms: i64,
    ) -> Result<i64, OAuthError> {
        let _lock = self.lock()?;
        let mut file = self.load()?;
        file.logins
            .retain(|e| e.expires_at_ms > now_ms && e.profile != profile);
        let expires_at_ms = now_ms + LOGIN_TTL_MS;
        file.logins.push(Entry {
            profile: profile.to_owned(),
            requester: requester.as_str().to_owned(),
            state: secrets.state.clone(),
            verifier: secrets.verifier.clone(),
            created_at_ms: now_ms,
            expires_at_ms,
        });
        self.store(&file)?;
        Ok(expires_at_ms)
    }

    /// Find the pending login of `requester` whose state is `state` (and, when given, whose
    /// profile is `profile`), remove it, and return its verifier. The entry is consumed even
    /// when it turns out to be expired.
    pub fn take(
        &self,
        profile: Option<&str>,
        requester: &Requester,
        state: &Secret<String>,
        now_ms: i64,
    ) -> Result<Taken, OAuthError> {
        let _lock = self.lock()?;
        let mut file = self.load()?;
        let mine =
            |e: &Entry| e.requester == requester.as_str() && profile.is_none_or(|p| p == e.profile);
        let hit = file.logins.iter().position(|e| {
            mine(e) && constant_time_eq(e.state.expose_secret(), state.expose_secret())
        });
        let Some(i) = hit else {
            let name = profile.unwrap_or("this login").to_owned();
            return Err(
                if file
                    .logins
                    .iter()
                    .any(|e| mine(e) && e.expires_at_ms > now_ms)
                {
                    OAuthError::StateMismatch(name)
                } else if file.logins.iter().any(mine) {
                    OAuthError::Expired(name)
                } else {
                    OAuthError::NoPendingLogin(name)
                },
            );
        };
        let entry = file.logins.remove(i);
        file.logins.retain(|e| e.expires_at_ms > now_ms);
        self.store(&file)?;
        if entry.expires_at_ms <= now_ms {
            return Err(OAuthError::Expired(entry.profile));
        }
        Ok(Taken {
            profile: entry.profile,
            verifier: entry.verifier,
        })
    }

    /// The unexpired pending logins, without secrets.
    pub fn list(&self, now_ms: i64) -> Result<Vec<PendingSummary>, OAuthError> {
        Ok(self
            .load()?
            .logins
            .into_iter()
            .filter(|e| e.expires_at_ms > now_ms)
            .map(|e| PendingSummary {
                profile: e.profile,
                requester: e.requester,
                expires_at_ms: e.expires_at_ms,
            })
            .collect())
    }

    /// Hold the file's sidecar lock for one read-modify-write. Chat users start and finish
    /// logins concurrently (and a CLI may run beside the bot): without it, one writer's entry
    /// is lost, or two finishes both consume the same single-use entry.
    fn lock(&self) -> Result<LockGuard, OAuthError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| self.err(e.kind().to_string()))?;
        lock::acquire(&self.path(), lock::DEFAULT_WAIT).map_err(|e| match e {
            StoreError::LockTimeout { .. } => self.err("another process holds its lock; try again"),
            _ => self.err("its lock file cannot be created"),
        })
    }

    fn err(&self, reason: impl Into<String>) -> OAuthError {
        OAuthError::PendingFile {
            path: self.path(),
            reason: reason.into(),
        }
    }

    fn load(&self) -> Result<File, OAuthError> {
        match fs::read(self.path()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| self.err("it is not valid JSON (delete it to start over)")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File {
                version: 1,
                logins: Vec::new(),
            }),
            Err(e) => Err(self.err(e.kind().to_string())),
        }
    }

    fn store(&self, file: &File) -> Result<(), OAuthError> {
        let io = |e: std::io::Error| self.err(e.kind().to_string());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io)?;
        // The folder holds verifiers: owner-only even if something else created it.
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        let bytes = serde_json::to_vec_pretty(&File {
            version: 1,
            logins: file.logins.clone(),
        })
        .map_err(|_| self.err("cannot encode it"))?;
        // A temp file a killed writer left (ours by name, over a minute old) goes first.
        leftovers::sweep(&self.dir, Some(&["pending.json"]), leftovers::MAX_AGE);
        let tmp = leftovers::temp_path(&self.path());
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, self.path()).map_err(io)?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PendingLogins, LoginSecrets) {
        let dir = tempfile::tempdir().unwrap();
        let p = PendingLogins::at(dir.path());
        (dir, p, LoginSecrets::generate().unwrap())
    }

    /// Chat users start logins at the same time: every one of them must stay pending.
    #[test]
    fn concurrent_starts_keep_every_entry() {
        let (_d, p, s) = setup();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (p, s) = (p.clone(), s.clone());
                std::thread::spawn(move || {
                    let who = Requester::chat(format!("chat:{i}"));
                    p.put(&format!("user{i}"), &who, &s, 1000).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert_eq!(p.list(1000).unwrap().len(), 8);
        assert!(!lock::lock_path(&p.path()).exists(), "the lock is released");
    }

    #[test]
    fn put_then_take_once() {
        let (_d, p, s) = setup();
        let cli = Requester::cli();
        p.put("alice", &cli, &s, 1000).unwrap();
        let mode = fs::metadata(p.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = fs::metadata(p.path().parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        let t = p.take(Some("alice"), &cli, &s.state, 2000).unwrap();
        assert_eq!(t.profile, "alice");
        assert_eq!(t.verifier.expose_secret(), s.verifier.expose_secret());
        assert!(matches!(
            p.take(Some("alice"), &cli, &s.state, 2000),
            Err(OAuthError::NoPendingLogin(_))
        ));
    }

    #[test]
    fn wrong_state_requester_and_expiry_are_refused() {
        let (_d, p, s) = setup();
        let cli = Requester::cli();
        p.put("alice", &cli, &s, 1000).unwrap();
        let other = LoginSecrets::generate().unwrap();
        assert!(matches!(
            p.take(Some("alice"), &cli, &other.state, 2000),
            Err(OAuthError::StateMismatch(_))
        ));
        assert!(matches!(
            p.take(Some("alice"), &Requester::chat("tg:1"), &s.state, 2000),
            Err(OAuthError::NoPendingLogin(_))
        ));
        assert!(matches!(
            p.take(Some("alice"), &cli, &s.state, 1000 + LOGIN_TTL_MS),
            Err(OAuthError::Expired(_))
        ));
        assert!(
            p.list(0).unwrap().is_empty(),
            "an expired entry is consumed"
        );
    }

    #[test]
    fn starting_again_replaces_and_prunes() {
        let (_d, p, s) = setup();
        let cli = Requester::cli();
        let s2 = LoginSecrets::generate().unwrap();
        let old = LoginSecrets::generate().unwrap();
        p.put("old", &cli, &old, 0).unwrap();
        p.put("alice", &cli, &s, LOGIN_TTL_MS - 10).unwrap();
        p.put("alice", &cli, &s2, LOGIN_TTL_MS + 10).unwrap();
        let list = p.list(LOGIN_TTL_MS + 10).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].profile, "alice");
        assert!(matches!(
            p.take(None, &cli, &s.state, LOGIN_TTL_MS + 20),
            Err(OAuthError::StateMismatch(_))
        ));
        assert!(p.take(None, &cli, &s2.state, LOGIN_TTL_MS + 20).is_ok());
        let raw = fs::read_to_string(p.path()).unwrap();
        assert!(!raw.contains("\"old\""), "expired entries are pruned");
    }
}
