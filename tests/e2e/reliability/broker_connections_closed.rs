//! Every broker connection of the run closed by the broker (`rabbitmqctl close_all_connections`
//! on the run's own vhost: the broker is shared, nobody else's connection is touched) in the
//! middle of 100,000 usage events and a stream of requests: every process reconnects, ingestion
//! resumes, each event is stored exactly once, no request outlives its deadline.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_connections_closed_mid_stream_lose_nothing() {
    let survived = survive("amqp", true, Pace::Steady, |d| {
        let vhost = d.vhost.clone().expect("own vhost");
        async move {
            let listed = rabbitmqctl(&[
                "list_connections",
                "-q",
                "--no-table-headers",
                "vhost",
                "name",
            ]);
            let ours = listed.lines().filter(|l| l.starts_with(&vhost)).count();
            assert!(
                ours >= 6,
                "the run's processes and producer are connected: {listed}"
            );
            rabbitmqctl(&["close_all_connections", "--vhost", &vhost, "fault test"]);
            eprintln!("closed {ours} broker connections of vhost {vhost}");
        }
    })
    .await;
    // Exactly once: not one event lost, none counted twice.
    assert_eq!(survived.stored, EVENTS as i64);
    survived.requests.assert_within_deadline();
}
