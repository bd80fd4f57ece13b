//! Requests handed in at once are saved by one writer for all of them: one pass under the write
//! lock, one batch and one flush, instead of every member taking the lock and waking the next.
//!
//! Members of a collaboration answer a round in bursts (the moderator asks, the room types). If
//! each answer takes the write lock in turn, most of the time goes to threads handing the lock
//! to each other, not to saving. Here the first member to arrive leads: it takes every request
//! waiting, checks and builds each under the lock as the request alone would be, applies them
//! as one batch, passes the lead to whoever arrived meanwhile, and waits for the flush; then
//! every member whose request it carried is told. A request is still confirmed only once it is
//! durable, and one that is refused (a closed round, a text too long) is refused alone.

use super::{Engine, Failure};
use crate::store::{Batch, StoreError};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// One kind of request the engine saves together.
pub(super) trait Work: Send + Sync {
    /// What the reply is made from once the request is saved.
    type Done: Send;
    /// Requests with the same key (the same member's) are built one after the other, each
    /// on what the one before saved, never in the same batch.
    type Key: Eq + std::hash::Hash;

    /// Two requests with different keys write different store keys.
    fn key(&self) -> Self::Key;

    /// Checks the request and builds its batch under the write lock, as it would alone. It may
    /// read only the store keys it writes and state that no request of its kind changes, so
    /// requests with different keys can be built one after the other before any is applied.
    fn build(&self, engine: &Engine) -> Result<(Self::Done, Batch), Failure>;
}

/// The requests of one kind waiting for a writer.
pub(super) struct Together<W: Work> {
    queue: Mutex<Queue<W>>,
}

struct Queue<W: Work> {
    waiting: VecDeque<Arc<Slot<W>>>,
    /// Someone takes the waiting requests next (or has been woken to).
    leading: bool,
}

impl<W: Work> Default for Together<W> {
    fn default() -> Self {
        Together {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                leading: false,
            }),
        }
    }
}

/// One request from when it is handed in until its outcome is known.
struct Slot<W: Work> {
    work: W,
    thread: Thread,
    state: Mutex<State<W::Done>>,
}

enum State<D> {
    Waiting,
    /// This request's thread takes the waiting requests now.
    Lead,
    /// With the threads to wake next, if this one was told as one of many.
    Done(Result<D, Failure>, Option<Chain>),
    /// The outcome went to its thread.
    Told,
}

/// The threads of the requests one batch carried, woken as a tree: the `i`-th wakes the
/// `2i+1`-th and `2i+2`-th, so the wake-ups run on every core instead of one after the other on
/// the leader's.
#[derive(Clone)]
struct Chain {
    threads: Arc<[Thread]>,
    at: usize,
}

impl Chain {
    fn wake_next(&self) {
        for next in [2 * self.at + 1, 2 * self.at + 2] {
            if let Some(thread) = self.threads.get(next) {
                thread.unpark();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // What these locks guard is whole before anything that could panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<W: Work> Slot<W> {
    /// Gives the outcome, unless one was given already, and wakes the request's thread.
    fn finish(&self, outcome: Result<W::Done, Failure>) {
        if self.give(outcome, None) {
            self.thread.unpark();
        }
    }

    /// Gives the outcome, unless one was given already, for the thread to find when `chain`
    /// wakes it; whether it was given.
    fn give(&self, outcome: Result<W::Done, Failure>, chain: Option<Chain>) -> bool {
        let mut state = lock(&self.state);
        if matches!(*state, State::Waiting | State::Lead) {
            *state = State::Done(outcome, chain);
            true
        } else {
            false
        }
    }
}

impl<W: Work> Together<W> {
    /// Saves `work` with whatever else is handed in meanwhile; returns once it is durable, or
    /// refused.
    pub(super) fn save(&self, engine: &Engine, work: W) -> Result<W::Done, Failure> {
        let slot = Arc::new(Slot {
            work,
            thread: std::thread::current(),
            state: Mutex::new(State::Waiting),
        });
        {
            let mut queue = lock(&self.queue);
            queue.waiting.push_back(slot.clone());
            if !queue.leading {
                queue.leading = true;
                *lock(&slot.state) = State::Lead;
            }
        }
        loop {
            let lead = {
                let mut state = lock(&slot.state);
                match std::mem::replace(&mut *state, State::Told) {
                    State::Done(outcome, chain) => {
                        if let Some(chain) = chain {
                            chain.wake_next();
                        }
                        return outcome;
                    }
                    State::Lead => {
                        // Its own request is among those it takes, and is told like the rest.
                        *state = State::Waiting;
                        true
                    }
                    other => {
                        *state = other;
                        false
                    }
                }
            };
            if lead {
                self.lead(engine);
            } else {
                // A wake-up may be spurious, or come before this park: the state decides.
                std::thread::park();
            }
        }
    }

    /// Takes every waiting request, and those that arrive while it builds them, and applies
    /// them as one batch under the write lock; passes the lead on, and tells each its outcome
    /// once the batch is durable. A request with the key of another one taken here (the same
    /// member twice) waits for the next leader, so it is built on what the first one saved.
    fn lead(&self, engine: &Engine) {
        let mut owed = Owed {
            together: self,
            slots: Vec::new(),
            later: Vec::new(),
            handed_over: false,
        };
        let guard = engine.lock();
        let start = Instant::now();
        let mut batch = Batch::new();
        let mut keys = HashSet::new();
        let mut carried = Vec::new();
        let mut yielded = false;
        loop {
            let taken: Vec<Arc<Slot<W>>> = lock(&self.queue).waiting.drain(..).collect();
            if taken.is_empty() {
                // One yield lets a member who is being woken hand theirs in; a lone request
                // loses no more than that.
                if yielded || start.elapsed() >= GATHER {
                    break;
                }
                yielded = true;
                std::thread::yield_now();
                continue;
            }
            yielded = false;
            owed.slots.extend(taken.iter().cloned());
            for slot in taken {
                // Decided before it is built: built on a state that lacks the first, the
                // second of the same member's requests could be refused (an edit of an answer
                // not saved yet) or saved beside it.
                if carried.len() >= MOST || !keys.insert(slot.work.key()) {
                    owed.put_back(&slot);
                    continue;
                }
                match slot.work.build(engine) {
                    Err(refused) => slot.finish(Err(refused)),
                    Ok((done, own)) => {
                        batch.append(own);
                        carried.push((slot, done));
                    }
                }
            }
            if start.elapsed() >= GATHER || carried.len() >= MOST {
                break;
            }
        }
        let applied = if batch.is_empty() {
            Ok(())
        } else {
            engine.apply_locked(batch)
        };
        drop(guard);
        // Whoever arrived meanwhile builds the next batch while this one is flushed.
        owed.hand_over();
        let durable = applied.and_then(|()| {
            if carried.is_empty() {
                Ok(())
            } else {
                engine.store.sync().map_err(Failure::from)
            }
        });
        let threads: Arc<[Thread]> = carried.iter().map(|(s, _)| s.thread.clone()).collect();
        for (at, (slot, done)) in carried.into_iter().enumerate() {
            let outcome = match &durable {
                Ok(()) => Ok(done),
                Err(failure) => Err(again(failure)),
            };
            let chain = Chain {
                threads: threads.clone(),
                at,
            };
            if !slot.give(outcome, Some(chain.clone())) {
                // Told already (it cannot be, but then it will not wake the ones after it).
                chain.wake_next();
            }
        }
        if let Some(first) = threads.first() {
            first.unpark();
        }
    }
}

/// How long a leader goes on taking requests that arrive while it builds, before it applies
/// them: about what a room's answers take to build, so a room shares one flush.
const GATHER: Duration = Duration::from_millis(1);
/// The most requests one batch carries.
const MOST: usize = 256;

/// The requests a leader took and owes an outcome. If it stops before telling them (a panic in
/// a request's checks), they are told it failed and the lead passes on, so no member waits
/// forever and the next answers are still saved.
struct Owed<'a, W: Work> {
    together: &'a Together<W>,
    slots: Vec<Arc<Slot<W>>>,
    /// Taken but left for the next leader; back at the front of the queue when the lead
    /// passes, also if this leader stops.
    later: Vec<Arc<Slot<W>>>,
    handed_over: bool,
}

impl<W: Work> Owed<'_, W> {
    /// Leaves `slot` for the next leader.
    fn put_back(&mut self, slot: &Arc<Slot<W>>) {
        self.slots.retain(|s| !Arc::ptr_eq(s, slot));
        self.later.push(slot.clone());
    }

    /// Puts what was left back at the front and wakes the first waiting request to lead, or
    /// leaves the lead free.
    fn hand_over(&mut self) {
        self.handed_over = true;
        let mut queue = lock(&self.together.queue);
        for slot in std::mem::take(&mut self.later).into_iter().rev() {
            queue.waiting.push_front(slot);
        }
        match queue.waiting.front() {
            Some(next) => {
                *lock(&next.state) = State::Lead;
                next.thread.unpark();
            }
            None => queue.leading = false,
        }
    }
}

impl<W: Work> Drop for Owed<'_, W> {
    fn drop(&mut self) {
        if !self.handed_over {
            self.hand_over();
        }
        for slot in &self.slots {
            slot.finish(Err(Failure::Internal(anyhow::anyhow!(
                "the writer saving this request together with others stopped"
            ))));
        }
    }
}

/// The same failure again, for each request a failed batch carried: a store's error keeps its
/// kind (a full disk is told as one), anything else its message.
fn again(failure: &Failure) -> Failure {
    match failure {
        Failure::Refused(refusal) => Failure::Refused(refusal.clone()),
        Failure::Internal(e) => match e.chain().find_map(|c| c.downcast_ref::<StoreError>()) {
            Some(store) => Failure::from(store.clone()),
            None => Failure::Internal(anyhow::anyhow!("{e:#}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Settings, SystemClock};
    use crate::store::{Entry, MemoryStore, Store, Tree};
    use crate::text::Catalog;

    /// Writes `value` at `key` in the meta tree; refused unless the key holds a value already
    /// when it is an edit; panics when asked to.
    struct Put {
        key: &'static str,
        value: &'static str,
        panics: bool,
        edit: bool,
    }

    impl Work for Put {
        type Done = &'static str;
        type Key = &'static str;

        fn key(&self) -> &'static str {
            self.key
        }

        fn build(&self, engine: &Engine) -> Result<(&'static str, Batch), Failure> {
            assert!(!self.panics, "a request's checks panicked");
            if self.edit && engine.store.get(Tree::Meta, self.key.as_bytes())?.is_none() {
                return Err(Failure::Internal(anyhow::anyhow!("nothing to edit")));
            }
            let mut batch = Batch::new();
            batch.put(Tree::Meta, self.key, self.value);
            Ok((self.value, batch))
        }
    }

    fn put(key: &'static str, value: &'static str) -> Put {
        Put {
            key,
            value,
            panics: false,
            edit: false,
        }
    }

    fn engine(store: Arc<dyn Store>) -> Engine {
        Engine::new(
            store,
            Arc::new(Catalog::embedded().unwrap()),
            Arc::new(SystemClock),
            Settings::default(),
        )
    }

    /// A store in memory, an engine over it, and no request waiting.
    fn set_up() -> (Arc<MemoryStore>, Engine, Together<Put>) {
        let store = Arc::new(MemoryStore::default());
        let engine = engine(store.clone());
        (store, engine, Together::default())
    }

    /// Hands `works` in without anyone leading, as if they arrived while another leader built.
    fn waiting(together: &Together<Put>, works: Vec<Put>) -> Vec<Arc<Slot<Put>>> {
        let mut queue = lock(&together.queue);
        queue.leading = true;
        works
            .into_iter()
            .map(|work| {
                let slot = Arc::new(Slot {
                    work,
                    thread: std::thread::current(),
                    state: Mutex::new(State::Waiting),
                });
                queue.waiting.push_back(slot.clone());
                slot
            })
            .collect()
    }

    fn outcome(slot: &Slot<Put>) -> Option<Result<&'static str, String>> {
        match &*lock(&slot.state) {
            State::Done(Ok(done), _) => Some(Ok(done)),
            State::Done(Err(e), _) => Some(Err(e.to_string())),
            _ => None,
        }
    }

    fn leads(slot: &Slot<Put>) -> bool {
        matches!(*lock(&slot.state), State::Lead)
    }

    #[test]
    fn a_leader_saves_what_waits_as_one_batch_and_a_second_write_of_a_key_waits_for_the_next() {
        let (store, engine, together) = set_up();
        let slots = waiting(
            &together,
            vec![put("a", "1"), put("b", "2"), put("a", "3"), put("c", "4")],
        );
        together.lead(&engine);
        assert_eq!(outcome(&slots[0]), Some(Ok("1")));
        assert_eq!(outcome(&slots[1]), Some(Ok("2")));
        assert_eq!(outcome(&slots[3]), Some(Ok("4")));
        // The second write of "a" was not built on a state that lacked the first: it is first
        // in line and leads next.
        assert_eq!(outcome(&slots[2]), None);
        assert!(leads(&slots[2]));
        assert_eq!(store.get(Tree::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        together.lead(&engine);
        assert_eq!(outcome(&slots[2]), Some(Ok("3")));
        assert_eq!(store.get(Tree::Meta, b"a").unwrap(), Some(b"3".to_vec()));
        assert!(!lock(&together.queue).leading, "no one is left to lead");
    }

    #[test]
    fn an_edit_in_the_same_batch_as_the_first_save_of_its_key_is_built_after_it_is_saved() {
        let (store, engine, together) = set_up();
        let edit = Put {
            edit: true,
            ..put("a", "2")
        };
        let slots = waiting(&together, vec![put("a", "1"), edit]);
        together.lead(&engine);
        assert_eq!(outcome(&slots[0]), Some(Ok("1")));
        assert_eq!(
            outcome(&slots[1]),
            None,
            "not refused for want of the first"
        );
        assert!(leads(&slots[1]));
        together.lead(&engine);
        assert_eq!(outcome(&slots[1]), Some(Ok("2")));
        assert_eq!(store.get(Tree::Meta, b"a").unwrap(), Some(b"2".to_vec()));
    }

    #[test]
    fn requests_handed_in_from_many_threads_are_each_saved_and_told_their_own() {
        let (store, engine, together) = set_up();
        const KEYS: [&str; 16] = [
            "k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10", "k11",
            "k12", "k13", "k14", "k15",
        ];
        let barrier = std::sync::Barrier::new(KEYS.len());
        std::thread::scope(|s| {
            for key in KEYS {
                let (together, engine, barrier) = (&together, &engine, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    assert_eq!(together.save(engine, put(key, key)).unwrap(), key);
                });
            }
        });
        for key in KEYS {
            assert_eq!(
                store.get(Tree::Meta, key.as_bytes()).unwrap(),
                Some(key.as_bytes().to_vec())
            );
        }
        assert!(!lock(&together.queue).leading);
    }

    #[test]
    fn a_panic_while_building_tells_the_others_and_passes_the_lead() {
        let (store, engine, together) = set_up();
        let slots = waiting(
            &together,
            vec![
                put("a", "1"),
                // Left for the next leader: not lost with the one that stops.
                put("a", "2"),
                Put {
                    panics: true,
                    ..put("b", "3")
                },
                // Behind the one that panics: never built, told all the same.
                put("c", "4"),
            ],
        );
        let panicked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| together.lead(&engine)));
        assert!(panicked.is_err());
        for at in [0, 2, 3] {
            let told = outcome(&slots[at]).expect("told");
            assert!(told.is_err(), "{told:?}");
        }
        assert_eq!(
            store.get(Tree::Meta, b"a").unwrap(),
            None,
            "nothing applied"
        );
        assert!(leads(&slots[1]));
        together.lead(&engine);
        assert_eq!(outcome(&slots[1]), Some(Ok("2")));
        assert!(!lock(&together.queue).leading, "the lead is free again");
        assert_eq!(together.save(&engine, put("d", "5")).unwrap(), "5");
    }

    /// A store whose writes are refused for a full disk.
    struct Full(MemoryStore);

    impl Store for Full {
        fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(tree, key)
        }
        fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
            self.0.scan_prefix(tree, prefix)
        }
        fn scan_range(
            &self,
            tree: Tree,
            start: &[u8],
            end: &[u8],
        ) -> Result<Vec<Entry>, StoreError> {
            self.0.scan_range(tree, start, end)
        }
        fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
            self.0.last_with_prefix(tree, prefix)
        }
        fn apply(&self, _: Batch) -> Result<(), StoreError> {
            Err(StoreError::Unwritable {
                path: "db".into(),
                detail: "no space left on device".into(),
                full: true,
            })
        }
        fn sync(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[test]
    fn a_refused_batch_is_told_to_every_request_it_carried_as_a_full_disk() {
        let engine = engine(Arc::new(Full(MemoryStore::default())));
        let together = Together::default();
        let slots = waiting(&together, vec![put("a", "1"), put("b", "2")]);
        together.lead(&engine);
        for slot in &slots {
            let State::Done(Err(failure), _) = &*lock(&slot.state) else {
                panic!("not told a failure");
            };
            let full = engine.unwritable_refusal(crate::domain::Lang::Nl, again(failure));
            let Failure::Refused(refusal) = full else {
                panic!("not told as a full disk: {failure}");
            };
            assert_eq!(refusal.key, crate::text::keys::ERROR_STORAGE_FULL);
        }
    }
}
