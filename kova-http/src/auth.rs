//! Who may call what: API keys (`Authorization: Bearer <key>`) and HS256 JWTs with a `roles`
//! claim, with roles read < write < admin. Keys are compared in constant time (as SHA-256
//! digests, so not even their lengths leak), and never appear in `Debug` or logs.

use crate::error::ApiError;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use kova_core::{Error, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// What a caller may do. Ordered: each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read endpoints.
    Read,
    /// Read, plus sync, add and generate.
    Write,
    /// Everything, including configuration changes.
    Admin,
}

impl Role {
    /// Parses `read`, `write`, `admin`.
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A stable, non-secret name: `key:<first 8 hex of the key's SHA-256>` or `jwt:<sub>`.
    pub id: String,
    /// What it may do.
    pub role: Role,
}

/// The configured credentials.
#[derive(Clone, Default)]
pub struct Auth {
    keys: Vec<(Role, [u8; 32])>,
    jwt_secret: Option<Vec<u8>>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("api_keys", &self.keys.len())
            .field("jwt", &self.jwt_secret.is_some())
            .finish()
    }
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    #[serde(default)]
    roles: Vec<String>,
    role: Option<String>,
}

impl Auth {
    /// No credentials: every protected endpoint refuses (fail closed).
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses `KOVA_API_KEYS`-style text, `role:key` pairs separated by commas.
    pub fn with_api_keys(mut self, spec: &str) -> Result<Self> {
        for (i, item) in spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let (role, key) = item
                .split_once(':')
                .ok_or_else(|| Error::invalid(format!("KOVA_API_KEYS[{i}]"), "must be role:key"))?;
            let role = Role::parse(role).ok_or_else(|| {
                Error::invalid(
                    format!("KOVA_API_KEYS[{i}]"),
                    "role must be read, write or admin",
                )
            })?;
            if key.len() < 16 {
                return Err(Error::invalid(
                    format!("KOVA_API_KEYS[{i}]"),
                    "key must be at least 16 characters",
                ));
            }
            self.keys
                .push((role, Sha256::digest(key.as_bytes()).into()));
        }
        Ok(self)
    }

    /// Accepts HS256 JWTs signed with `secret` (at least 32 bytes).
    pub fn with_jwt_secret(mut self, secret: &str) -> Result<Self> {
        if secret.len() < 32 {
            return Err(Error::invalid(
                "KOVA_JWT_SECRET",
                "must be at least 32 characters",
            ));
        }
        self.jwt_secret = Some(secret.as_bytes().to_vec());
        Ok(self)
    }

    /// Whether any credential is configured.
    pub fn is_configured(&self) -> bool {
        !self.keys.is_empty() || self.jwt_secret.is_some()
    }

    /// Authenticates the request and checks it has at least `needed`.
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        needed: Role,
        now: i64,
    ) -> std::result::Result<Principal, ApiError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing credentials: send Authorization: Bearer <API key or JWT>",
                )
            })?;
        if !self.is_configured() {
            return Err(ApiError::unauthorized(
                "no credentials are configured on this server (set KOVA_API_KEYS or KOVA_JWT_SECRET)",
            ));
        }
        let principal = if token.matches('.').count() == 2 && self.jwt_secret.is_some() {
            self.verify_jwt(token, now)?
        } else {
            self.match_key(token)?
        };
        if principal.role < needed {
            return Err(ApiError::forbidden(format!(
                "this endpoint needs the {} role; the credential has {}",
                needed.as_str(),
                principal.role.as_str()
            )));
        }
        Ok(principal)
    }

    fn match_key(&self, token: &str) -> std::result::Result<Principal, ApiError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare with every key, without stopping early, so timing says nothing about which.
        let mut found: Option<Role> = None;
        for (role, key) in &self.keys {
            if bool::from(key.ct_eq(&digest)) {
                found = Some(found.map_or(*role, |r| r.max(*role)));
            }
        }
        let role = found.ok_or_else(|| ApiError::unauthorized("invalid credentials"))?;
        Ok(Principal {
            id: format!("key:{}", &hex8(&digest)),
            role,
        })
    }

    fn verify_jwt(&self, token: &str, now: i64) -> std::result::Result<Principal, ApiError> {
        let bad = || ApiError::unauthorized("invalid credentials");
        let secret = self.jwt_secret.as_ref().ok_or_else(bad)?;
        let mut parts = token.split('.');
        let (h, p, s) = match (parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s)) => (h, p, s),
            _ => return Err(bad()),
        };
        let header: JwtHeader = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        // Only HS256: never `none`, never an algorithm the token chooses for us.
        if header.alg != "HS256" {
            return Err(ApiError::unauthorized(
                "unsupported JWT algorithm (only HS256)",
            ));
        }
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| bad())?;
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        match claims.exp {
            Some(exp) if exp > now => {}
            Some(_) => return Err(ApiError::unauthorized("token expired")),
            None => return Err(ApiError::unauthorized("token has no exp claim")),
        }
        if claims.nbf.is_some_and(|nbf| nbf > now) {
            return Err(ApiError::unauthorized("token not valid yet"));
        }
        let role = claims
            .roles
            .iter()
            .map(String::as_str)
            .chain(claims.role.as_deref())
            .filter_map(Role::parse)
            .max()
            .ok_or_else(|| ApiError::forbidden("token has no read, write or admin role"))?;
        Ok(Principal {
            id: format!("jwt:{}", claims.sub.unwrap_or_default()),
            role,
        })
    }
}

fn hex8(d: &[u8; 32]) -> String {
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds an HS256 JWT (for tests and tools that mint tokens).
pub fn mint_jwt(secret: &str, claims: &serde_json::Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{h}.{p}").as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{p}.{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    const SECRET: &str = "test-jwt-secret-0123456789abcdef0123";

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
        h
    }

    fn auth() -> Auth {
        Auth::none()
            .with_api_keys("read:reader-key-0123456789, admin:admin-key-0123456789")
            .unwrap()
            .with_jwt_secret(SECRET)
            .unwrap()
    }

    #[test]
    fn keys_grant_their_role_and_no_more() {
        let a = auth();
        let p = a
            .authorize(&bearer("reader-key-0123456789"), Role::Read, 0)
            .unwrap();
        assert_eq!(p.role, Role::Read);
        assert!(
            !p.id.contains("reader"),
            "the key never appears in the principal"
        );
        let e = a
            .authorize(&bearer("reader-key-0123456789"), Role::Write, 0)
            .unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::FORBIDDEN);
        assert_eq!(
            a.authorize(&bearer("admin-key-0123456789"), Role::Admin, 0)
                .unwrap()
                .role,
            Role::Admin
        );
        assert_eq!(
            a.authorize(&bearer("wrong-key-0123456789"), Role::Read, 0)
                .unwrap_err()
                .status(),
            axum::http::StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            a.authorize(&HeaderMap::new(), Role::Read, 0)
                .unwrap_err()
                .status(),
            axum::http::StatusCode::UNAUTHORIZED
        );
        assert!(!format!("{a:?}").contains("key-0123"));
    }

    #[test]
    fn jwts_are_checked_for_signature_algorithm_expiry_and_role() {
        let a = auth();
        let ok = mint_jwt(
            SECRET,
            &json!({"sub": "ci", "exp": 2_000, "roles": ["read", "write"]}),
        );
        let p = a.authorize(&bearer(&ok), Role::Write, 1_000).unwrap();
        assert_eq!((p.role, p.id.as_str()), (Role::Write, "jwt:ci"));
        assert!(
            a.authorize(&bearer(&ok), Role::Read, 3_000).is_err(),
            "expired"
        );
        let forged = mint_jwt(
            "another-secret-0123456789abcdef0123",
            &json!({"exp": 2_000, "roles": ["admin"]}),
        );
        assert!(a.authorize(&bearer(&forged), Role::Read, 1_000).is_err());
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"exp":9999999999,"roles":["admin"]}"#)
        );
        assert!(a.authorize(&bearer(&none_alg), Role::Read, 1_000).is_err());
        let no_exp = mint_jwt(SECRET, &json!({"roles": ["admin"]}));
        assert!(a.authorize(&bearer(&no_exp), Role::Read, 1_000).is_err());
        let no_role = mint_jwt(SECRET, &json!({"exp": 2_000}));
        assert_eq!(
            a.authorize(&bearer(&no_role), Role::Read, 1_000)
                .unwrap_err()
                .status(),
            axum::http::StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn configuration_is_validated() {
        assert!(Auth::none().with_api_keys("reader-key-0123456789").is_err());
        assert!(Auth::none()
            .with_api_keys("root:reader-key-0123456789")
            .is_err());
        assert!(Auth::none().with_api_keys("read:short").is_err());
        assert!(Auth::none().with_jwt_secret("short").is_err());
        let none = Auth::none();
        let e = none
            .authorize(&bearer("anything-at-all-123"), Role::Read, 0)
            .unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::UNAUTHORIZED);
    }
}
