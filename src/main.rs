//! `ecl`: the one binary of the ECL partner platform. See `ecl --help`.

use clap::{Parser, Subcommand};

mod allocator;

use ecl::{App, run_system, targets};
use ecl_bench::bench;
use ecl_kernel::Settings;

#[derive(Parser)]
#[command(
    name = "ecl",
    version,
    about = "ECL partner platform: run any set of targets (default: all, embedded)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run targets (comma-separated or repeated; default `all`).
    Serve {
        #[arg(long, short, default_value = "all", value_delimiter = ',')]
        target: Vec<String>,
    },
    /// Print every target and what it needs.
    Targets,
    /// Print the GraphQL schema (SDL).
    Schema {
        /// Instead, list the breaking changes from the SDL file OLD to the SDL file NEW (one per
        /// line, `` `Coordinate`: what ``); exit status 1 when there is any.
        #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
        diff: Option<Vec<std::path::PathBuf>>,
    },
    /// Run a benchmark and print its figures.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
    /// List or replay the events consumers gave up on (kept in each service's store).
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetters,
    },
}

#[derive(Subcommand)]
enum DeadLetters {
    /// Print every dead letter: service, event id, topic, attempts, last failure.
    List {
        /// Only this service's.
        #[arg(long)]
        service: Option<String>,
        /// As JSON (one array), with the event bodies.
        #[arg(long)]
        json: bool,
    },
    /// Hand dead letters back to their consumer, which runs each once more (within a second)
    /// and deletes those it handled.
    Replay {
        /// Event ids to replay.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<String>,
        /// Replay every dead letter (of --service, if given).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        service: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    allocator::configure();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve {
        target: vec!["all".into()],
    }) {
        Command::Targets => {
            print!("{}", targets::describe());
            Ok(())
        }
        Command::Schema { diff: None } => {
            println!("{}", ecl_gateway::sdl());
            Ok(())
        }
        Command::Schema { diff: Some(files) } => {
            let read = |p: &std::path::PathBuf| {
                std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
            };
            let changes = ecl_gateway::schema_diff::breaking(&read(&files[0])?, &read(&files[1])?)
                .map_err(|e| anyhow::anyhow!("not a schema: {e}"))?;
            for c in &changes {
                println!("{c}");
            }
            if !changes.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Bench { which } => run_system(ecl_bench::run(which, BENCH_LAUNCHER)),
        Command::DeadLetters { action } => {
            let settings = match Settings::load() {
                Ok(s) => s,
                Err(problems) => {
                    eprintln!("{problems}");
                    std::process::exit(2);
                }
            };
            run_system(dead_letters_cmd(settings, action))
        }
        Command::Serve { target } => {
            let settings = match Settings::load() {
                Ok(s) => s,
                Err(problems) => {
                    eprintln!("{problems}");
                    std::process::exit(2);
                }
            };
            ecl_kernel::telemetry::init_tracing(settings.log_json);
            run_system(serve(settings, target))
        }
    }
}

/// How the benchmarks start the platform in their own process: they cannot name this crate,
/// which calls them.
const BENCH_LAUNCHER: ecl_bench::Launcher = ecl_bench::Launcher {
    start: |settings, targets, clock| {
        Box::pin(async move {
            let app = App::start_with_clock(settings, &targets, clock).await?;
            let (addr, bus) = (app.addr, app.bus.clone());
            Ok(ecl_bench::App::new(addr, bus, move || Box::pin(app.stop())))
        })
    },
    module_names: || targets::modules().iter().map(|m| m.name).collect(),
};

async fn dead_letters_cmd(settings: Settings, action: DeadLetters) -> anyhow::Result<()> {
    match action {
        DeadLetters::List { service, json } => {
            let letters = ecl::dead_letters::list(&settings, service.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letters)?);
            } else {
                print!("{}", ecl::dead_letters::render(&letters));
            }
        }
        DeadLetters::Replay { ids, all, service } => {
            let ids = (!all).then_some(ids);
            let marked =
                ecl::dead_letters::replay(&settings, service.as_deref(), ids.as_deref()).await?;
            if marked.is_empty() {
                println!("nothing to replay");
            }
            for (service, n) in marked {
                println!("{service}: {n} dead letter(s) handed back for replay");
            }
        }
    }
    Ok(())
}

async fn serve(settings: Settings, target: Vec<String>) -> anyhow::Result<()> {
    let app = App::start(settings, &target).await?;
    if app.targets.contains(&"gateway") {
        println!(
            "ECL is running: GraphiQL at http://{}/  (POST http://{}/graphql), partner portal at http://{}/portal/",
            app.addr, app.addr, app.addr
        );
        println!(
            "Sign in with: mutation {{ signIn(loginId: \"operator\", password: \"…\") {{ accessToken }} }} \
             — then send `Authorization: Bearer <accessToken>`."
        );
    } else {
        println!(
            "ECL targets {} running; health at http://{}/healthz",
            app.targets.join(","),
            app.addr
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight messages");
    app.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
