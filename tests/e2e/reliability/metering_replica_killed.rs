//! One of two metering replicas SIGKILLed in the middle of 100,000 usage events (it holds up to a
//! prefetch window of unacknowledged batches, some half-written in open transactions): the other
//! replica gets them redelivered; 0 events lost, 0 counted twice.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_metering_replica_killed_mid_batch_loses_nothing() {
    let survived = survive("kill", false, Pace::Burst, |d| {
        d.kill_one("metering");
        async {}
    })
    .await;
    // Exactly once: not one event lost, none counted twice.
    assert_eq!(survived.stored, EVENTS as i64);
    survived.requests.assert_within_deadline();
}
