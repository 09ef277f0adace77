//! Where contracts sit in the tree (SPEC §1: a child belongs to one partner for its whole life):
//! a contract's id and parent never change and its row is never deleted, so once read, a place
//! stays true and is kept in the process. Every visibility answer other services ask for
//! (`GetManaged`: the walk's tenant and user levels each ask about a whole page of children) and
//! the parents of a `children` batch then cost no statement once their places are known; who the
//! caller is, and which groups narrow them, is still read for every request (`visibility.rs`).
//! Only committed rows are read here (the pool, never a transaction), so nothing cached can be
//! rolled back.

use crate::{Contracts, entity::contract, search::of_ids};
use ecl_kernel::AppResult;

/// Places kept per process: (id, parent) of ~100 bytes each, a few MB at most.
const KEPT: u64 = 50_000;

/// The places read so far: id → parent.
pub(crate) struct Places(moka::sync::Cache<String, Option<String>>);

impl Default for Places {
    fn default() -> Self {
        Places(moka::sync::Cache::new(KEPT))
    }
}

impl Contracts {
    /// The places of those of `ids` that exist, in the order of `ids` (each once); malformed ids
    /// name none. Reads only the ids not seen before, in one statement.
    pub(crate) async fn places(&self, ids: &[String]) -> AppResult<Vec<contract::Placed>> {
        // What is known now, and what to read: the answer does not depend on the cache keeping
        // what this call put in (it may evict at once when full).
        let mut known = std::collections::HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            if known.contains_key(id.as_str()) {
                continue;
            }
            match self.places.0.get(id) {
                Some(parent_id) => {
                    known.insert(id.as_str(), Some(parent_id));
                }
                None => {
                    known.insert(id.as_str(), None);
                    missing.push(id.clone());
                }
            }
        }
        if !missing.is_empty() {
            let stmt = of_ids(missing)
                .into_partial_model::<contract::Placed>()
                .into_statement(self.db.get_database_backend());
            let rows: Vec<contract::Placed> =
                ecl_store::sqlite_reads::all_as(&self.db, stmt).await?;
            for p in rows {
                self.places.0.insert(p.id.clone(), p.parent_id.clone());
                if let Some(slot) = known.get_mut(p.id.as_str()) {
                    *slot = Some(p.parent_id);
                }
            }
        }
        let mut out = Vec::with_capacity(known.len());
        for id in ids {
            // Each id once, in the order asked; those never found (`None`) are left out.
            if let Some(Some(parent_id)) = known.remove(id.as_str()) {
                out.push(contract::Placed {
                    id: id.clone(),
                    parent_id,
                });
            }
        }
        Ok(out)
    }
}
