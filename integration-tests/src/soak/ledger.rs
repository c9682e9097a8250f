//! Every write the soak's writer made, as the apiserver acknowledged it: the revision an
//! acknowledged create or update returned is a floor the object must still be at (or past)
//! at the end, and an acknowledged delete must not be undone. A write whose answer never
//! came (the apiserver was killed mid-call) may or may not have happened: it loosens the
//! verdict for that object and is counted, never guessed. Names are never reused, so an
//! object has one life: created, changed, deleted.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// (kind, name) within the soak's namespace.
pub type Key = (String, String);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The revision of the last acknowledged create or update.
    pub floor: u64,
    /// Whether a create was acknowledged (or the object was seen to exist by a later write).
    pub created: bool,
    /// An acknowledged delete (or a NotFound answer to one).
    pub deleted: bool,
    /// A delete was sent and its answer never came.
    pub maybe_deleted: bool,
    pub acked_writes: u64,
    pub ambiguous_writes: u64,
}

/// What is there at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    Absent,
    Present { revision: u64, terminating: bool },
}

#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub entries: BTreeMap<Key, Entry>,
}

impl Ledger {
    /// An acknowledged write: `revision` is the returned object's resourceVersion (for a
    /// delete, whatever came back; unused).
    pub fn acked(&mut self, kind: &str, name: &str, op: Op, revision: u64) {
        let e = self.entry(kind, name);
        e.acked_writes += 1;
        match op {
            Op::Create | Op::Update => {
                e.created = true;
                e.floor = e.floor.max(revision);
            }
            Op::Delete => e.deleted = true,
        }
    }

    /// A write whose outcome is unknown (transport error, Unavailable, a timeout).
    pub fn ambiguous(&mut self, kind: &str, name: &str, op: Op) {
        let e = self.entry(kind, name);
        e.ambiguous_writes += 1;
        if op == Op::Delete {
            e.maybe_deleted = true;
        }
    }

    fn entry(&mut self, kind: &str, name: &str) -> &mut Entry {
        self.entries
            .entry((kind.to_string(), name.to_string()))
            .or_default()
    }

    pub fn acked_writes(&self) -> u64 {
        self.entries.values().map(|e| e.acked_writes).sum()
    }

    pub fn ambiguous_writes(&self) -> u64 {
        self.entries.values().map(|e| e.ambiguous_writes).sum()
    }
}

/// `Ok(true)` when the acknowledged writes constrain the object and it honours them,
/// `Ok(false)` when nothing was acknowledged (nothing to check), `Err` naming the lost write.
pub fn verdict(e: &Entry, seen: Observed) -> Result<bool, String> {
    if e.deleted {
        return match seen {
            Observed::Present {
                terminating: false,
                revision,
            } => Err(format!(
                "an acknowledged delete was lost: the object is back at revision {revision}"
            )),
            _ => Ok(true),
        };
    }
    if !e.created {
        return Ok(false);
    }
    match seen {
        Observed::Present { revision, .. } if revision >= e.floor => Ok(true),
        Observed::Present { revision, .. } => Err(format!(
            "an acknowledged write was lost: revision {revision} is older than the acknowledged {}",
            e.floor
        )),
        Observed::Absent if e.maybe_deleted => Ok(true),
        Observed::Absent => Err(format!(
            "an acknowledged object is gone (acknowledged at revision {}, never deleted)",
            e.floor
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(revision: u64) -> Observed {
        Observed::Present {
            revision,
            terminating: false,
        }
    }

    #[test]
    fn acknowledged_revision_is_a_floor() {
        let mut l = Ledger::default();
        l.acked("deployments", "d1", Op::Create, 10);
        l.acked("deployments", "d1", Op::Update, 20);
        l.ambiguous("deployments", "d1", Op::Update);
        let e = &l.entries[&("deployments".into(), "d1".into())];
        assert_eq!(verdict(e, present(20)), Ok(true));
        assert_eq!(verdict(e, present(35)), Ok(true), "controllers write later");
        assert!(
            verdict(e, present(19)).is_err(),
            "the update at 20 was lost"
        );
        assert!(verdict(e, Observed::Absent).is_err(), "never deleted");
        assert_eq!((l.acked_writes(), l.ambiguous_writes()), (2, 1));
    }

    #[test]
    fn deletes_acknowledged_or_maybe() {
        let mut l = Ledger::default();
        l.acked("services", "s1", Op::Create, 5);
        l.acked("services", "s1", Op::Delete, 0);
        let e = l.entries[&("services".into(), "s1".into())].clone();
        assert_eq!(verdict(&e, Observed::Absent), Ok(true));
        let terminating = Observed::Present {
            revision: 9,
            terminating: true,
        };
        assert_eq!(verdict(&e, terminating), Ok(true), "finalizers may hold it");
        assert!(verdict(&e, present(5)).is_err(), "the delete was undone");

        l.acked("services", "s2", Op::Create, 7);
        l.ambiguous("services", "s2", Op::Delete);
        let e = &l.entries[&("services".into(), "s2".into())];
        assert_eq!(verdict(e, Observed::Absent), Ok(true));
        assert_eq!(verdict(e, present(7)), Ok(true));
        assert!(verdict(e, present(6)).is_err());
    }

    #[test]
    fn unacknowledged_create_constrains_nothing() {
        let mut l = Ledger::default();
        l.ambiguous("jobs", "j1", Op::Create);
        let e = &l.entries[&("jobs".into(), "j1".into())];
        assert_eq!(verdict(e, Observed::Absent), Ok(false));
        assert_eq!(verdict(e, present(3)), Ok(false));
    }
}
