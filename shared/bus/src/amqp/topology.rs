//! The broker's topology (SPEC §1: operators run each service as its own deployment, so every
//! replica of a target shares its queues): the names of the exchanges and queues, all prefixed with
//! the namespace, their arguments (dead-lettering, the request queues' message TTL), and their
//! declaration — the exchanges and the dead-letter queue on connecting, a target's request queue
//! the first time it is called on a connection.

use super::{Inner, Live};
use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};

/// With [`RequestExpiry::QueueTtl`], how long a request queue keeps a message nobody took: longer
/// than any caller waits, so it only clears out what the consumers' deadline check would drop.
const REQUEST_QUEUE_TTL_MS: i64 = 120_000;

/// How a request that nobody took before its deadline is kept from being executed late. Every
/// process of a deployment must use the same (each has its own request queues).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestExpiry {
    /// Each request carries its remaining time as its AMQP expiration, and the broker drops it
    /// then; the consumer checks the deadline too.
    PerMessage,
    /// The consumer's deadline check alone decides; the request queues (`{ns}.rq.{target}`) have
    /// one message TTL for all, which RabbitMQ applies without per-message bookkeeping. The
    /// default: `ecl bench bus` measured it ahead of per-message expiry in each run (see the
    /// README's performance section), and the consumer's check keeps "never executed late"
    /// (`amqp_request_without_consumer_fails_in_time_and_is_never_executed_later`, both modes).
    #[default]
    QueueTtl,
}

impl Inner {
    pub(super) fn q_request(&self, target: &str) -> String {
        match self.expiry {
            RequestExpiry::PerMessage => format!("{}.req.{target}", self.ns),
            RequestExpiry::QueueTtl => format!("{}.rq.{target}", self.ns),
        }
    }
    pub(super) fn x_events(&self) -> String {
        format!("{}.events", self.ns)
    }
    pub(super) fn x_dead(&self) -> String {
        format!("{}.dlx", self.ns)
    }
    pub(super) fn queue_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.x_dead().into()),
        );
        args
    }
    pub(super) fn request_queue_args(&self) -> FieldTable {
        let mut args = self.queue_args();
        if self.expiry == RequestExpiry::QueueTtl {
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(REQUEST_QUEUE_TTL_MS),
            );
        }
        args
    }

    /// The events exchange, the dead-letter exchange and its queue, declared on connecting.
    pub(super) async fn declare_topology(&self, events: &Channel) -> anyhow::Result<()> {
        events
            .exchange_declare(
                self.x_events().into(),
                ExchangeKind::Topic,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        events
            .exchange_declare(
                self.x_dead().into(),
                ExchangeKind::Fanout,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        let dead = format!("{}.dead", self.ns);
        events
            .queue_declare(dead.as_str().into(), durable_queue(), FieldTable::default())
            .await?;
        events
            .queue_bind(
                dead.as_str().into(),
                self.x_dead().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    pub(super) async fn declare_request_queue(
        &self,
        live: &Live,
        target: &str,
    ) -> Result<String, lapin::Error> {
        let q = self.q_request(target);
        if !live.declared.lock().contains(&q) {
            live.requests
                .queue_declare(
                    q.as_str().into(),
                    durable_queue(),
                    self.request_queue_args(),
                )
                .await?;
            live.declared.lock().insert(q.clone());
        }
        Ok(q)
    }
}

pub(super) fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

pub(super) fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    }
}
