//! Helper of `benches/kafka/run.sh` (issue 3, item 9): topic creation, a bulk producer, and the
//! bare consumer that only counts messages — the practical limit driftd is compared with.
//!
//! ```sh
//! cargo run --release --example bench-consumer -- create  --brokers B --topic T [--partitions 1]
//! cargo run --release --example bench-consumer -- produce --brokers B --topic T --file events.jsonl
//! cargo run --release --example bench-consumer -- consume --brokers B --topic T --count N
//! ```
//!
//! `produce` sends every line of a JSON Lines file as one message (no key), as fast as the
//! broker takes them, and waits for every delivery. `consume` joins a fresh consumer group,
//! reads the topic from the earliest offset with librdkafka's defaults (as driftd's Kafka
//! source does: `BaseConsumer` polling), touches each payload's length and stops after `N`
//! messages; it prints one JSON line `{"messages", "bytes", "seconds", "per_second"}` where
//! `seconds` runs from just before the subscription to the N-th message.

use std::io::BufRead;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message};

struct Args {
    command: String,
    brokers: String,
    topic: String,
    partitions: i32,
    file: Option<String>,
    count: u64,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let command = it.next().context("a command: create, produce or consume")?;
    let mut args =
        Args { command, brokers: "127.0.0.1:9092".into(), topic: "bench".into(), partitions: 1, file: None, count: 0 };
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--brokers" => args.brokers = value()?,
            "--topic" => args.topic = value()?,
            "--partitions" => args.partitions = value()?.parse().context("--partitions: a number")?,
            "--file" => args.file = Some(value()?),
            "--count" => args.count = value()?.parse().context("--count: a number")?,
            other => bail!("unknown argument {other} (see the header of examples/bench_consumer.rs)"),
        }
    }
    Ok(args)
}

fn create(args: &Args) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", &args.brokers).create().context("admin client")?;
    let topic = NewTopic::new(&args.topic, args.partitions, TopicReplication::Fixed(1));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let results = runtime.block_on(admin.create_topics([&topic], &AdminOptions::new()))?;
    for result in results {
        if let Err((name, code)) = result {
            bail!("cannot create topic {name}: {code}");
        }
    }
    eprintln!("topic {} created ({} partitions)", args.topic, args.partitions);
    Ok(())
}

fn produce(args: &Args) -> Result<()> {
    let path = args.file.as_deref().context("--file")?;
    let file = std::fs::File::open(path).with_context(|| path.to_string())?;
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create()
        .context("cannot create the producer")?;
    let started = Instant::now();
    let mut sent = 0u64;
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let mut record = BaseRecord::<(), str>::to(&args.topic).payload(line.as_str());
        while let Err((_, back)) = producer.send(record) {
            // A full local queue: let deliveries drain, then retry.
            std::thread::sleep(Duration::from_millis(5));
            record = back;
        }
        sent += 1;
        if sent.is_multiple_of(500_000) {
            eprintln!("{sent} messages queued");
        }
    }
    producer.flush(Duration::from_secs(300)).context("not every message was delivered")?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{sent} messages produced in {seconds:.1} s ({:.0}/s)", sent as f64 / seconds);
    Ok(())
}

fn consume(args: &Args) -> Result<()> {
    if args.count == 0 {
        bail!("--count N: the number of messages to wait for");
    }
    let group = format!("bench-bare-{}", std::process::id());
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("group.id", &group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .context("cannot create the consumer")?;
    let started = Instant::now();
    consumer.subscribe(&[&args.topic])?;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let deadline = started + Duration::from_secs(600);
    while messages < args.count {
        if Instant::now() > deadline {
            bail!("timed out after {messages} messages");
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                messages += 1;
                bytes += message.payload().map_or(0, |p| p.len() as u64);
            }
            Some(Err(err)) => eprintln!("consumer error: {err}"),
            None => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"messages\": {messages}, \"bytes\": {bytes}, \"seconds\": {seconds:.3}, \"per_second\": {:.0}}}",
        messages as f64 / seconds
    );
    consumer.unsubscribe();
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    match args.command.as_str() {
        "create" => create(&args),
        "produce" => produce(&args),
        "consume" => consume(&args),
        other => bail!("unknown command {other}: create, produce or consume"),
    }
}
