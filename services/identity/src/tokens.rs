//! Access tokens: HS256 JWTs with a key id, checked against the service's own clock so expiry is
//! testable without sleeping.

use crate::entity::signing_key;
use base64::{Engine, engine::general_purpose::STANDARD};
use ecl_kernel::{AppError, AppResult, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::RwLock;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cid: Option<String>,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The refresh-token family this access token belongs to (signing out revokes it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fam: Option<String>,
}

pub struct Keys {
    db: DatabaseConnection,
    current: (String, Vec<u8>),
    known: RwLock<HashMap<String, Vec<u8>>>,
}

impl Keys {
    /// Loads the newest key, creating the first one if there is none.
    pub async fn load(db: DatabaseConnection, now: i64) -> anyhow::Result<Keys> {
        if signing_key::Entity::find().one(&db).await?.is_none() {
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let row = signing_key::ActiveModel {
                kid: Set(uuid::Uuid::new_v4().simple().to_string()[..12].to_string()),
                secret: Set(STANDARD.encode(secret)),
                created_at: Set(now),
            };
            // Two replicas starting at once may both insert; both keys stay valid (looked up by kid).
            let _ = row.insert(&db).await;
        }
        let rows = signing_key::Entity::find()
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&db)
            .await?;
        let mut known = HashMap::new();
        for r in &rows {
            known.insert(r.kid.clone(), STANDARD.decode(&r.secret)?);
        }
        let newest = rows
            .first()
            .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
        let current = (newest.kid.clone(), STANDARD.decode(&newest.secret)?);
        Ok(Keys {
            db,
            current,
            known: RwLock::new(known),
        })
    }

    pub fn sign(&self, claims: &Claims) -> AppResult<String> {
        let header = Header {
            kid: Some(self.current.0.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&self.current.1))
            .map_err(AppError::internal)
    }

    /// Verifies signature and expiry (against `now`); anything wrong is `UNAUTHENTICATED`.
    pub async fn verify(&self, token: &str, now: i64) -> AppResult<Claims> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AppError::unauthenticated())?;
        // Only HS256 is accepted: `alg: none` or an asymmetric algorithm never gets this far.
        if header.alg != Algorithm::HS256 {
            return Err(AppError::unauthenticated());
        }
        let kid = header.kid.ok_or_else(AppError::unauthenticated)?;
        let cached = self.known.read().get(&kid).cloned();
        let secret = match cached {
            Some(s) => s,
            None => {
                // Maybe another replica created a key since we loaded.
                let row = signing_key::Entity::find_by_id(kid.clone())
                    .one(&self.db)
                    .await?
                    .ok_or_else(AppError::unauthenticated)?;
                let s = STANDARD.decode(&row.secret).map_err(AppError::internal)?;
                self.known.write().insert(kid, s.clone());
                s
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below against the injectable clock
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret), &validation)
                .map_err(|_| AppError::unauthenticated())?;
        if data.claims.exp <= now {
            return Err(AppError::unauthenticated());
        }
        Ok(data.claims)
    }
}
