//! The DynamoDB calls: one `GetItem` to read, one conditional `UpdateItem` for each write that
//! decides something (never read-then-write), each bounded by the call timeout. Every answer
//! goes into the key's cache entry; every failure marks it (local rules apply) and is logged at
//! most once per interval.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use tokio::runtime::Handle;
use tokio::time::Instant;

use super::cache::Entry;
use super::item::{parse, OPEN_UNTIL, PROBE_OWNER, PROBE_UNTIL};
use super::throttled_log::ThrottledLog;
use crate::{FleetTable, KEY_ATTRIBUTE, TTL_ATTRIBUTE};

/// The store's settings (see the builder for their meaning and defaults).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) refresh_interval: Duration,
    pub(crate) call_timeout: Duration,
    pub(crate) probe_lease: Duration,
    pub(crate) expiry_margin: Duration,
}

/// A write a local transition asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write {
    /// Open until this epoch ms (only ever moves the shared open-until forward).
    Open(u64),
    /// The probe succeeded (only the probe owner, or anyone when no probe holds a live lease).
    Closed,
}

/// What the background tasks share: the table, this process's id, the settings.
#[derive(Debug)]
pub(crate) struct Backend {
    pub(crate) table: FleetTable,
    pub(crate) breaker: String,
    pub(crate) me: String,
    pub(crate) settings: Settings,
    base: Instant,
    log: ThrottledLog,
    pub(crate) runtime: Handle,
}

/// Epoch milliseconds (wall clock: what every process of the fleet compares).
pub(crate) fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Why a call gave no answer.
enum Failed {
    /// The condition did not hold: someone else decided; read what they decided.
    Condition,
    /// Error or timeout.
    Store(String),
}

impl Backend {
    pub(crate) fn new(table: FleetTable, breaker: String, me: String, settings: Settings, runtime: Handle) -> Self {
        Self {
            log: ThrottledLog::new(millis(settings.refresh_interval)),
            table,
            breaker,
            me,
            settings,
            base: Instant::now(),
            runtime,
        }
    }

    /// Monotonic ms since the store was built (drives the refresh interval).
    #[inline]
    pub(crate) fn now_ms(&self) -> u64 {
        millis(self.base.elapsed())
    }

    fn failed(&self, entry: &Entry, why: String) {
        entry.fail();
        self.log_failure(why);
    }

    /// Logs a failure of the store, at most once per interval.
    pub(crate) fn log_failure(&self, why: impl std::fmt::Display) {
        self.log.warn(self.now_ms(), &self.breaker, why);
    }

    /// Starts a read of `entry` unless one is in flight or the last was less than an interval
    /// ago.
    #[inline]
    pub(crate) fn refresh_if_due(self: &Arc<Self>, entry: &Arc<Entry>) {
        let now = self.now_ms();
        if entry.is_due(now) && !entry.reading.swap(true, Ordering::AcqRel) {
            entry.set_due(now.saturating_add(millis(self.settings.refresh_interval)));
            let (this, entry) = (self.clone(), entry.clone());
            self.runtime.spawn(async move {
                this.read(&entry).await;
                entry.reading.store(false, Ordering::Release);
            });
        }
    }

    /// Starts an election of this process as the fleet's probe, unless one is in flight.
    pub(crate) fn elect(self: &Arc<Self>, entry: &Arc<Entry>) {
        if entry.electing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (this, entry) = (self.clone(), entry.clone());
        self.runtime.spawn(async move {
            let now = epoch_ms();
            let update = this
                .update(&entry)
                .update_expression("SET #po = :me, #pu = :pu")
                .condition_expression(
                    "#ou > :zero AND #ou <= :now AND (attribute_not_exists(#pu) OR #pu < :now) AND #exp > :nows",
                )
                .expression_attribute_values(":me", AttributeValue::S(this.me.clone()))
                .expression_attribute_values(":pu", n(now.saturating_add(millis(this.settings.probe_lease))))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":nows", n(now / 1000));
            this.decide(&entry, update, "elect the probe").await;
            entry.electing.store(false, Ordering::Release);
        });
    }

    /// One `GetItem` (consistent), into `entry`.
    async fn read(&self, entry: &Entry) {
        let sent = self.now_ms();
        let call = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .key(KEY_ATTRIBUTE, AttributeValue::S(entry.id.clone()))
            .consistent_read(true)
            .send();
        match tokio::time::timeout(self.settings.call_timeout, call).await {
            Ok(Ok(out)) => entry.learn(parse(out.item(), &self.me, epoch_ms()), sent),
            Ok(Err(e)) => self.failed(entry, format!("read: {}", DisplayErrorContext(e))),
            Err(_) => self.failed(entry, format!("read timed out after {:?}", self.settings.call_timeout)),
        }
    }

    /// An `UpdateItem` of `entry`'s item with the attribute names every write uses, answering
    /// the new item.
    fn update(&self, entry: &Entry) -> UpdateItemFluentBuilder {
        self.table
            .client()
            .update_item()
            .table_name(self.table.name())
            .key(KEY_ATTRIBUTE, AttributeValue::S(entry.id.clone()))
            .expression_attribute_names("#ou", OPEN_UNTIL)
            .expression_attribute_names("#po", PROBE_OWNER)
            .expression_attribute_names("#pu", PROBE_UNTIL)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .return_values(ReturnValue::AllNew)
    }

    /// Sends a conditional update: its new item, or (condition failed) what the others decided,
    /// goes into `entry`.
    async fn decide(&self, entry: &Entry, update: UpdateItemFluentBuilder, what: &str) {
        let sent = self.now_ms();
        let result = match tokio::time::timeout(self.settings.call_timeout, update.send()).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) if is_condition(&e) => Err(Failed::Condition),
            Ok(Err(e)) => Err(Failed::Store(format!("{what}: {}", DisplayErrorContext(e)))),
            Err(_) => Err(Failed::Store(format!(
                "{what} timed out after {:?}",
                self.settings.call_timeout
            ))),
        };
        match result {
            Ok(out) => entry.learn(parse(out.attributes.as_ref(), &self.me, epoch_ms()), sent),
            Err(Failed::Condition) => self.read(entry).await,
            Err(Failed::Store(why)) => self.failed(entry, why),
        }
    }

    /// Writes a local transition (called by the writer task, one at a time).
    pub(crate) async fn write(&self, entry: &Entry, write: Write) {
        let now = epoch_ms();
        let margin = millis(self.settings.expiry_margin);
        match write {
            Write::Open(until) => {
                let update = self
                    .update(entry)
                    .update_expression("SET #ou = :u, #exp = :e REMOVE #po, #pu")
                    .condition_expression("attribute_not_exists(#ou) OR #ou < :u")
                    .expression_attribute_values(":u", n(until))
                    .expression_attribute_values(":e", n(until.saturating_add(margin) / 1000));
                self.decide(entry, update, "publish open").await;
            }
            Write::Closed => {
                let update = self
                    .update(entry)
                    .update_expression("SET #ou = :zero, #exp = :e REMOVE #po, #pu")
                    .condition_expression(
                        "#po = :me OR (#ou > :zero AND #ou <= :now AND (attribute_not_exists(#pu) OR #pu < :now))",
                    )
                    .expression_attribute_values(":me", AttributeValue::S(self.me.clone()))
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":now", n(now))
                    .expression_attribute_values(":e", n(now.saturating_add(margin) / 1000));
                self.decide(entry, update, "publish closed").await;
            }
        }
    }
}

fn is_condition<R>(e: &SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}
