//! The waiting requests of one priority level: a fixed set of queues, a flow's requests
//! spread over the few queues its hash deals it (Kubernetes' shuffle sharding, so a heavy
//! flow fills its own queues and rarely all of another flow's), and the queues served in
//! turn. Kubernetes serves the queue whose next request would finish first in virtual
//! time; with every request costing one seat and no estimate of how long it runs (as
//! here), that order is serving the non-empty queues round-robin, which this does. Pure
//! state: the caller owns the seats, the clock and the locking.

use std::collections::VecDeque;

use super::classify::Queuing;

/// Where a waiting request is, to take it out again (wait limit passed, client gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    queue: usize,
    id: u64,
}

#[derive(Debug)]
pub struct FairQueues<T> {
    queues: Vec<VecDeque<(u64, T)>>,
    hand_size: usize,
    queue_length_limit: usize,
    /// The queue served next if it has a request (round-robin cursor).
    next: usize,
    waiting: usize,
    next_id: u64,
}

/// Kubernetes' shuffle-sharding dealer: the `hand_size` distinct queues out of
/// `deck_size` that `hash` picks, read as a mixed-radix number.
pub fn deal(hash: u64, deck_size: usize, hand_size: usize, mut pick: impl FnMut(usize)) {
    let hand_size = hand_size.min(deck_size).min(16);
    let mut remainders = [0usize; 16];
    let mut h = hash;
    for (i, r) in remainders.iter_mut().enumerate().take(hand_size) {
        let radix = (deck_size - i) as u64;
        *r = (h % radix) as usize;
        h /= radix;
    }
    for i in 0..hand_size {
        let mut card = remainders[i];
        // Skip the cards already dealt: each remainder indexes the deck left over.
        for j in (0..i).rev() {
            if card >= remainders[j] {
                card += 1;
            }
        }
        pick(card);
    }
}

impl<T> FairQueues<T> {
    pub fn new(q: Queuing) -> Self {
        let queues = q.queues.max(1);
        FairQueues {
            queues: (0..queues).map(|_| VecDeque::new()).collect(),
            hand_size: q.hand_size.clamp(1, queues),
            queue_length_limit: q.queue_length_limit,
            next: 0,
            waiting: 0,
            next_id: 0,
        }
    }

    /// Requests waiting in all queues.
    pub fn len(&self) -> usize {
        self.waiting
    }

    pub fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Queues `item` of the flow `flow_hash` on the shortest queue of its hand (the first
    /// of equals); gives it back when that queue is full (Kubernetes' `queue-full`).
    pub fn enqueue(&mut self, flow_hash: u64, item: T) -> Result<Ticket, T> {
        let mut best: Option<usize> = None;
        deal(flow_hash, self.queues.len(), self.hand_size, |q| {
            if best.is_none_or(|b| self.queues[q].len() < self.queues[b].len()) {
                best = Some(q);
            }
        });
        let Some(queue) = best else { return Err(item) };
        if self.queues[queue].len() >= self.queue_length_limit {
            return Err(item);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.queues[queue].push_back((id, item));
        self.waiting += 1;
        Ok(Ticket { queue, id })
    }

    /// The next request to run: the oldest of the next non-empty queue in turn.
    pub fn dequeue(&mut self) -> Option<T> {
        if self.waiting == 0 {
            return None;
        }
        let n = self.queues.len();
        for step in 0..n {
            let q = (self.next + step) % n;
            if let Some((_, item)) = self.queues[q].pop_front() {
                self.next = (q + 1) % n;
                self.waiting -= 1;
                return Some(item);
            }
        }
        None
    }

    /// Takes a waiting request out; None when it was dequeued already.
    pub fn remove(&mut self, ticket: Ticket) -> Option<T> {
        let queue = self.queues.get_mut(ticket.queue)?;
        let at = queue.iter().position(|(id, _)| *id == ticket.id)?;
        let (_, item) = queue.remove(at)?;
        self.waiting -= 1;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queuing(queues: usize, hand_size: usize, limit: usize) -> Queuing {
        Queuing {
            queues,
            hand_size,
            queue_length_limit: limit,
        }
    }

    #[test]
    fn a_hand_is_distinct_cards_of_the_deck() {
        for hash in [0u64, 1, 7, 12345, u64::MAX, 0xdead_beef_cafe] {
            let mut hand = Vec::new();
            deal(hash, 64, 6, |c| hand.push(c));
            assert_eq!(hand.len(), 6);
            assert!(hand.iter().all(|c| *c < 64), "{hand:?}");
            let mut sorted = hand.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 6, "distinct: {hand:?}");
            let mut again = Vec::new();
            deal(hash, 64, 6, |c| again.push(c));
            assert_eq!(hand, again, "the same flow gets the same hand");
        }
        // A hand as big as the deck is the whole deck.
        let mut all = Vec::new();
        deal(99, 4, 4, |c| all.push(c));
        all.sort();
        assert_eq!(all, [0, 1, 2, 3]);
    }

    #[test]
    fn a_flow_fills_its_hand_then_is_refused() {
        let mut q = FairQueues::new(queuing(8, 2, 3));
        for i in 0..6 {
            assert!(q.enqueue(42, i).is_ok(), "request {i} fits (2 queues of 3)");
        }
        assert_eq!(q.len(), 6);
        assert_eq!(q.enqueue(42, 6), Err(6), "its queues are full");
        // Another flow with another hand still gets in.
        let other = (0..1000u64)
            .find(|h| {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                deal(42, 8, 2, |c| a.push(c));
                deal(*h, 8, 2, |c| b.push(c));
                a.iter().all(|c| !b.contains(c))
            })
            .unwrap();
        assert!(q.enqueue(other, 100).is_ok());
    }

    #[test]
    fn queues_are_served_in_turn() {
        let mut q = FairQueues::new(queuing(16, 1, 100));
        // A heavy flow queues 10 before a light one queues 2.
        let heavy = 1u64;
        let light = (2..1000u64)
            .find(|h| {
                let (mut a, mut b) = (0, 0);
                deal(heavy, 16, 1, |c| a = c);
                deal(*h, 16, 1, |c| b = c);
                a != b
            })
            .unwrap();
        for i in 0..10 {
            q.enqueue(heavy, ("heavy", i)).unwrap();
        }
        q.enqueue(light, ("light", 0)).unwrap();
        q.enqueue(light, ("light", 1)).unwrap();
        let first_four: Vec<_> = (0..4).map(|_| q.dequeue().unwrap()).collect();
        let light_served = first_four.iter().filter(|(f, _)| *f == "light").count();
        assert_eq!(light_served, 2, "{first_four:?}");
        // Within a flow, first come first served.
        let rest: Vec<_> = std::iter::from_fn(|| q.dequeue()).collect();
        let heavy_order: Vec<_> = first_four
            .iter()
            .chain(&rest)
            .filter(|(f, _)| *f == "heavy")
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(heavy_order, (0..10).collect::<Vec<_>>());
        assert!(q.is_empty());
    }

    #[test]
    fn a_removed_request_is_not_served() {
        let mut q = FairQueues::new(queuing(4, 2, 10));
        let a = q.enqueue(5, "a").unwrap();
        let b = q.enqueue(5, "b").unwrap();
        assert_eq!(q.remove(a), Some("a"));
        assert_eq!(q.remove(a), None, "only once");
        assert_eq!(q.len(), 1);
        assert_eq!(q.dequeue(), Some("b"));
        assert_eq!(q.remove(b), None, "already served");
        assert_eq!(q.dequeue(), None);
    }
}
