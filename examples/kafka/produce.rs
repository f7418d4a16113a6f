//! Produces the quickstart's synthetic credit-scoring traffic to Kafka, for
//! `examples/kafka/driftd.yaml`:
//!
//! ```sh
//! cargo run --release --example produce-traffic -- --brokers 127.0.0.1:9092 [--rate 50] [--as-recorded]
//! ```
//!
//! Each request of `examples/quickstart/{inputs,predictions}.jsonl` (24 hours of traffic,
//! drift from noon) goes to `credit-inputs` and `credit-predictions`, keyed by request id.
//! By default the event times are rewritten to "now" and the requests are paced at `--rate`
//! per second, so driftd's 10-minute sliding windows see live traffic whose drift starts
//! halfway through the file; `--as-recorded` keeps the recorded times and sends as fast as
//! possible (a backfill).

use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use serde_json::Value;

struct Args {
    brokers: String,
    rate: f64,
    as_recorded: bool,
    inputs_topic: String,
    predictions_topic: String,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        brokers: "127.0.0.1:9092".into(),
        rate: 50.0,
        as_recorded: false,
        inputs_topic: "credit-inputs".into(),
        predictions_topic: "credit-predictions".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--brokers" => args.brokers = value()?,
            "--rate" => args.rate = value()?.parse().context("--rate: a number of requests per second")?,
            "--inputs-topic" => args.inputs_topic = value()?,
            "--predictions-topic" => args.predictions_topic = value()?,
            "--as-recorded" => args.as_recorded = true,
            other => bail!("unknown argument {other} (see the header of examples/kafka/produce.rs)"),
        }
    }
    if args.rate.is_nan() || args.rate <= 0.0 {
        bail!("--rate must be positive");
    }
    Ok(args)
}

fn read_lines(name: &str) -> Result<Vec<Value>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart").join(name);
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    text.lines().map(|l| serde_json::from_str(l).with_context(|| format!("{}: {l}", path.display()))).collect()
}

fn rfc3339_now() -> String {
    let ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis();
    driftd::source::time::format_time_ms(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let inputs = read_lines("inputs.jsonl")?;
    let predictions = read_lines("predictions.jsonl")?;
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("linger.ms", "10")
        .create()
        .context("cannot create the producer")?;
    let started = Instant::now();
    for (i, (mut input, mut prediction)) in inputs.into_iter().zip(predictions).enumerate() {
        if !args.as_recorded {
            let due = started + Duration::from_secs_f64(i as f64 / args.rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let now = Value::String(rfc3339_now());
            input["ts"] = now.clone();
            prediction["ts"] = now;
        }
        let key = input["request_id"].as_str().unwrap_or_default().to_string();
        for (topic, message) in [(&args.inputs_topic, &input), (&args.predictions_topic, &prediction)] {
            let payload = message.to_string();
            let mut record = BaseRecord::to(topic).key(&key).payload(&payload);
            while let Err((err, back)) = producer.send(record) {
                // A full local queue: wait for deliveries, then retry.
                eprintln!("queue full ({err}); flushing");
                producer.flush(Duration::from_secs(10))?;
                record = back;
            }
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("{} requests sent", i + 1);
        }
    }
    producer.flush(Duration::from_secs(30)).context("not every message was delivered")?;
    eprintln!("done");
    Ok(())
}
