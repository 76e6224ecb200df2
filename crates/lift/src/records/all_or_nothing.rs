//! Sources that cannot report single records (SNS, S3, EventBridge): every record is offered,
//! and any failure fails the invocation so the service redelivers the event. The event is
//! decoded whole before any record is offered, so an envelope that does not decode fails the
//! invocation without running a handler (nothing is done twice on redelivery).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sns::SnsEvent;
use serde_json::value::RawValue;

use super::pattern::arn_resource;
use super::{guarded, log_failure, no_route, parse, EventRoutes};
use crate::context::Context;
use crate::error::{code, Error};
use crate::output::{Inner, Output};

/// Outcome of a source that cannot report single records.
#[derive(Default)]
struct AllOrNothing {
    total: usize,
    failed: usize,
    first: Option<Error>,
}

impl AllOrNothing {
    fn record(&mut self, source: &'static str, id: &str, result: Result<(), Error>) {
        self.total += 1;
        if let Err(err) = result {
            log_failure(source, id, &err);
            self.failed += 1;
            self.first.get_or_insert(err);
        }
    }

    fn finish(self) -> Result<Output, Error> {
        match self.first {
            None => Ok(Output(Inner::Empty)),
            Some(first) => Err(Error::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                code::HANDLER_FAILED,
                format!("{} of {} record(s) failed; first: {}", self.failed, self.total, first),
            )),
        }
    }
}

impl EventRoutes {
    pub(crate) async fn sns(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: SnsEvent = parse(json)?;
        let mut outcome = AllOrNothing::default();
        for rec in event.records {
            let arn = rec.sns.topic_arn.clone();
            let id = rec.sns.message_id.clone();
            let topic = arn_resource(&arn);
            let result = match self.sns.iter().find(|(g, _)| g.matches_resource(topic, &arn)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec.sns)).await,
                None => Err(no_route(format!("no route for SNS topic `{topic}`"))),
            };
            outcome.record("sns", &id, result);
        }
        outcome.finish()
    }

    pub(crate) async fn s3(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: S3Event = parse(json)?;
        let mut outcome = AllOrNothing::default();
        for rec in event.records {
            let bucket = rec.s3.bucket.name.clone().unwrap_or_default();
            let key = rec
                .s3
                .object
                .url_decoded_key
                .clone()
                .or_else(|| rec.s3.object.key.clone())
                .unwrap_or_default();
            let name = rec.event_name.clone().unwrap_or_default();
            let result = match self.s3.iter().find(|(m, _)| m.matches(&bucket, &key, &name)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                None => Err(no_route(format!("no route for S3 `{name}` on `{bucket}/{key}`"))),
            };
            outcome.record("s3", &format!("{bucket}/{key}"), result);
        }
        outcome.finish()
    }

    pub(crate) async fn eventbridge(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: EventBridgeEvent<Box<RawValue>> = parse(json)?;
        let found = self
            .eventbridge
            .iter()
            .find(|(m, _)| m.matches(&event.source, &event.detail_type));
        let (source, detail_type) = (event.source.clone(), event.detail_type.clone());
        let result = match found {
            Some((_, h)) => guarded(h(ctx.clone(), event)).await,
            None => Err(no_route(format!(
                "no route for EventBridge `{source}` / `{detail_type}`"
            ))),
        };
        let mut outcome = AllOrNothing::default();
        outcome.record("eventbridge", &detail_type, result);
        outcome.finish()
    }
}
