//! One priority level at run time: its seats, counted with atomics so that a request
//! arriving while the level has a free seat and nobody waiting takes it without a lock,
//! and its queues ([`FairQueues`]) behind a mutex, touched only when requests wait.
//!
//! A seat freed while requests wait is handed to the next of them. The counts are read
//! and written sequentially consistent so that a request queueing and a seat being freed
//! at the same moment always see each other: the one queueing bumps `waiting` and then
//! looks for a free seat; the one freeing a seat drops `executing` and then looks for
//! waiters.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

use super::classify::{Level, Queuing};
use super::fair_queue::{FairQueues, Ticket};
use super::metrics::{LevelMetrics, Rejection};

pub(crate) struct LevelState {
    seats: u32,
    executing: AtomicU32,
    waiting: AtomicU32,
    /// None: the level rejects what it has no seat for.
    queues: Option<Mutex<FairQueues<oneshot::Sender<()>>>>,
    pub metrics: LevelMetrics,
}

/// A seat held; given back (to the next waiter, if any) when dropped.
pub(crate) struct Seat(Arc<LevelState>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A request waiting for a seat; leaves its queue when dropped (client gone).
pub(crate) struct Waiting {
    level: Arc<LevelState>,
    ticket: Ticket,
    rx: Option<oneshot::Receiver<()>>,
    since: Instant,
}

pub(crate) enum Admission {
    Now(Seat),
    Wait(Waiting),
    Rejected(Rejection),
}

impl LevelState {
    pub fn new(level: Level, seats: u32, queuing: Option<Queuing>) -> Arc<Self> {
        Arc::new(LevelState {
            seats,
            executing: AtomicU32::new(0),
            waiting: AtomicU32::new(0),
            queues: queuing.map(|q| Mutex::new(FairQueues::new(q))),
            metrics: LevelMetrics::new(level.name(), seats),
        })
    }

    fn lock(&self) -> Option<MutexGuard<'_, FairQueues<oneshot::Sender<()>>>> {
        // A panic cannot leave the queues half-changed (each change is one call), so a
        // poisoned lock is still usable.
        self.queues
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn try_take_seat(&self) -> bool {
        let taken = self
            .executing
            .fetch_update(SeqCst, SeqCst, |n| (n < self.seats).then_some(n + 1))
            .is_ok();
        if taken {
            self.metrics.executing.inc();
        }
        taken
    }

    /// A seat now, a place in the flow's queues, or a refusal.
    pub fn admit(self: &Arc<Self>, flow_hash: u64) -> Admission {
        // Nobody waiting: a free seat is this request's (no lock).
        if self.waiting.load(SeqCst) == 0 && self.try_take_seat() {
            return Admission::Now(Seat(self.clone()));
        }
        let Some(mut queues) = self.lock() else {
            return if self.try_take_seat() {
                Admission::Now(Seat(self.clone()))
            } else {
                Admission::Rejected(Rejection::ConcurrencyLimit)
            };
        };
        let (tx, rx) = oneshot::channel();
        let Ok(ticket) = queues.enqueue(flow_hash, tx) else {
            return Admission::Rejected(Rejection::QueueFull);
        };
        self.waiting.fetch_add(1, SeqCst);
        self.metrics.inqueue.inc();
        // A seat freed since the first look would otherwise wait for the next release.
        self.dispatch(&mut queues);
        Admission::Wait(Waiting {
            level: self.clone(),
            ticket,
            rx: Some(rx),
            since: Instant::now(),
        })
    }

    /// Hands free seats to waiters, in the queues' order.
    fn dispatch(&self, queues: &mut FairQueues<oneshot::Sender<()>>) {
        while self.waiting.load(SeqCst) > 0 {
            if !self.try_take_seat() {
                return;
            }
            let Some(tx) = queues.dequeue() else {
                self.give_back();
                return;
            };
            self.waiting.fetch_sub(1, SeqCst);
            self.metrics.inqueue.dec();
            // The waiter leaves its queue (under this lock) before its receiver goes, so
            // the send reaches it; should it not, the seat is free again.
            if tx.send(()).is_err() {
                self.give_back();
            }
        }
    }

    fn give_back(&self) {
        self.executing.fetch_sub(1, SeqCst);
        self.metrics.executing.dec();
    }

    fn release(&self) {
        self.give_back();
        if self.waiting.load(SeqCst) > 0
            && let Some(mut queues) = self.lock()
        {
            self.dispatch(&mut queues);
        }
    }

    /// Requests executing now (tests, debugging).
    pub fn executing(&self) -> u32 {
        self.executing.load(SeqCst)
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(SeqCst)
    }

    pub fn seats(&self) -> u32 {
        self.seats
    }
}

impl Waiting {
    /// Waits for a seat until `deadline`; Err(()) when it passed first (the request is out
    /// of its queue then).
    pub async fn seat(mut self, deadline: tokio::time::Instant) -> Result<Seat, ()> {
        let Some(rx) = self.rx.as_mut() else {
            return Err(());
        };
        let granted = tokio::time::timeout_at(deadline, rx).await;
        if matches!(granted, Ok(Ok(()))) {
            self.rx = None;
            self.level
                .metrics
                .waited
                .observe(self.since.elapsed().as_secs_f64());
            return Ok(Seat(self.level.clone()));
        }
        // Out of the queue now, unless a seat came at the last moment: then it is ours.
        if self.leave() {
            self.level
                .metrics
                .not_executed
                .observe(self.since.elapsed().as_secs_f64());
            Err(())
        } else {
            self.level
                .metrics
                .waited
                .observe(self.since.elapsed().as_secs_f64());
            Ok(Seat(self.level.clone()))
        }
    }

    /// Leaves the queue; false when a seat was handed over already (then it is held and
    /// this request must use or give it back).
    fn leave(&mut self) -> bool {
        let Some(mut rx) = self.rx.take() else {
            return false;
        };
        if let Some(mut queues) = self.level.lock()
            && queues.remove(self.ticket).is_some()
        {
            self.level.waiting.fetch_sub(1, SeqCst);
            self.level.metrics.inqueue.dec();
            return true;
        }
        // Dequeued under the lock: its send happened (or failed and gave the seat back).
        !matches!(rx.try_recv(), Ok(()))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.rx.is_some() && !self.leave() {
            // A seat was handed to a request that went away: pass it on.
            self.level.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(seats: u32, queues: usize, hand: usize, limit: usize) -> Arc<LevelState> {
        LevelState::new(
            Level::GlobalDefault,
            seats,
            Some(Queuing {
                queues,
                hand_size: hand,
                queue_length_limit: limit,
            }),
        )
    }

    fn far() -> tokio::time::Instant {
        tokio::time::Instant::now() + std::time::Duration::from_secs(3600)
    }

    #[tokio::test]
    async fn seats_then_queues_then_refusal() {
        let l = level(2, 1, 1, 2);
        let a = match l.admit(1) {
            Admission::Now(s) => s,
            _ => panic!("free seat"),
        };
        let _b = match l.admit(1) {
            Admission::Now(s) => s,
            _ => panic!("free seat"),
        };
        let w1 = match l.admit(1) {
            Admission::Wait(w) => w,
            _ => panic!("queued"),
        };
        let w2 = match l.admit(1) {
            Admission::Wait(w) => w,
            _ => panic!("queued"),
        };
        assert!(matches!(
            l.admit(1),
            Admission::Rejected(Rejection::QueueFull)
        ));
        assert_eq!((l.executing(), l.waiting()), (2, 2));
        drop(a);
        let s1 = w1.seat(far()).await.expect("the freed seat");
        assert_eq!((l.executing(), l.waiting()), (2, 1));
        drop(s1);
        let s2 = w2.seat(far()).await.expect("the next one");
        drop(s2);
        assert_eq!((l.executing(), l.waiting()), (1, 0));
    }

    #[tokio::test]
    async fn a_waiter_past_its_limit_leaves_its_queue() {
        let l = level(1, 4, 2, 10);
        let _held = match l.admit(7) {
            Admission::Now(s) => s,
            _ => panic!(),
        };
        let Admission::Wait(w) = l.admit(7) else {
            panic!()
        };
        // Nobody gives the seat back: the wait can only end at its deadline.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(50);
        assert!(w.seat(deadline).await.is_err());
        assert_eq!((l.executing(), l.waiting()), (1, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_goes_away_gives_its_place_and_seat_on() {
        let l = level(1, 4, 2, 10);
        let held = match l.admit(7) {
            Admission::Now(s) => s,
            _ => panic!(),
        };
        let Admission::Wait(gone) = l.admit(7) else {
            panic!()
        };
        let Admission::Wait(next) = l.admit(7) else {
            panic!()
        };
        drop(held);
        // `gone` got the seat handed over, then went away without using it.
        assert_eq!((l.executing(), l.waiting()), (1, 1));
        drop(gone);
        let s = next.seat(far()).await.expect("passed on");
        assert_eq!((l.executing(), l.waiting()), (1, 0));
        drop(s);
        assert_eq!(l.executing(), 0);
    }

    #[test]
    fn a_level_without_queues_refuses_at_its_limit() {
        let l = LevelState::new(Level::CatchAll, 1, None);
        let _s = match l.admit(1) {
            Admission::Now(s) => s,
            _ => panic!(),
        };
        assert!(matches!(
            l.admit(1),
            Admission::Rejected(Rejection::ConcurrencyLimit)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_seat_is_lost_under_contention() {
        let l = level(3, 8, 2, 1000);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..400u64 {
            let l = l.clone();
            tasks.spawn(async move {
                let seat = match l.admit(i % 5) {
                    Admission::Now(s) => s,
                    Admission::Wait(w) => w.seat(far()).await.expect("served"),
                    Admission::Rejected(r) => panic!("{r:?}"),
                };
                assert!(l.executing() <= 3);
                tokio::task::yield_now().await;
                drop(seat);
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        assert_eq!((l.executing(), l.waiting()), (0, 0));
    }
}
