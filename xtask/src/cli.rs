//! The command line: every `cargo xtask` command and flag, in one place.
//!
//! One file over 500 lines: clap's derive types for every command, so `cargo xtask help` and this
//! file read the same.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    about = "Build, test and ship Mumble"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Show debug logs
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the CloudFormation templates of a stage, one YAML file per stack
    Synth(Synth),
    /// Write the OpenAPI 3.1 document of the HTTP API
    Openapi(Openapi),
    /// Run the local AWS API emulator in the foreground on 127.0.0.1
    Emulator(Emulator),
    /// Run every check: format, lint, tests (with the emulator), template lint
    Test(Test),
    /// Run the benchmarks and print (and save) a table of results
    Bench(Bench),
    /// Build every Lambda as a content-addressed zip
    Build(Build),
    /// Deploy a stage: artifacts, stacks, site, CDN invalidation
    Deploy(Deploy),
    /// Show what `deploy` would change, changing nothing
    Diff(Diff),
    /// Estimate a stage's monthly cost at a usage profile, next to the old EC2 host
    Cost(Cost),
    /// Invalidate paths in a stage's CloudFront distribution
    Invalidate(Invalidate),
    /// Print the outputs of a stage's stacks
    Outputs(Outputs),
    /// Print a stage's function logs, merged in time order (`--follow` to keep watching)
    Logs(Logs),
    /// Show whether a stage is healthy: stacks, alarms, functions, API, jobs (non-zero on ALARM)
    Status(Status),
    /// Delete a stage's stacks (refused for protected stages)
    Destroy(Destroy),
    /// Continue a rollback for a stack stuck in UPDATE_ROLLBACK_FAILED
    Recover(Recover),
    /// List a stage's releases, newest first, with what each changed
    Releases(Releases),
    /// Put a stage back to an earlier release: stacks, function code and site
    Rollback(Rollback),
    /// On every save, rebuild changed functions and hotswap them, and sync the site
    Watch(Watch),
    /// Run the whole of Mumble on this machine at http://127.0.0.1:3000
    Dev(Dev),
    /// Set or list a stage's secrets (SSM SecureString parameters); values are never printed
    Secrets(Secrets),
    /// Move the old Mumble's MongoDB dump and uploads folder into a stage (see docs/migration.md)
    Migrate(Migrate),
}

/// Where and as whom to talk to AWS; flattened into every command that does.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS named profile (default: the standard credential chain)
    #[arg(long, env = "AWS_PROFILE", global = true)]
    pub profile: Option<String>,
    /// AWS region (default: the stage's region)
    #[arg(long, global = true)]
    pub region: Option<String>,
}

/// Which stage a command works on.
#[derive(Debug, Clone, Args)]
pub struct StageArg {
    /// Stage name: local, dev, staging, prod, or a personal stage (inherits dev)
    #[arg(long, short = 's', env = "MUMBLE_STAGE")]
    pub stage: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text
    #[default]
    Text,
    /// JSON on stdout, nothing else on stdout
    Json,
}

#[derive(Debug, Args)]
pub struct Synth {
    #[command(flatten)]
    pub stage: StageArg,
    /// Directory for the templates (default: target/synth/{stage})
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Openapi {
    /// File to write (default: stdout)
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Emulator {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct Test {
    /// Skip the browser test (it needs Chromium)
    #[arg(long)]
    pub no_browser: bool,
    /// After a failed step, run the remaining steps that do not depend on it
    #[arg(long)]
    pub keep_going: bool,
    /// Only run tests whose names match these filters (passed to cargo nextest)
    pub filters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct Bench {
    /// How many runs to take the median of
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Where to write the results as JSON (default: target/bench.json)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only run the benchmarks whose names contain these words
    pub filters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct Build {
    /// Stage whose Lambda architecture to build for (default: dev)
    #[arg(long, short = 's', env = "MUMBLE_STAGE", default_value = "dev")]
    pub stage: String,
    /// Build only these functions (default: all)
    #[arg(long, value_name = "NAME")]
    pub function: Vec<String>,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

/// What a deploy ships: the Lambda artifacts and the static site.
#[derive(Debug, Clone, Args)]
pub struct Sources {
    /// Use the artifacts already built instead of building
    #[arg(long)]
    pub no_build: bool,
    /// Folder holding `{function}/bootstrap.zip` (default: target/lambda; implies --no-build)
    #[arg(long, env = "MUMBLE_ARTIFACTS_DIR", value_name = "DIR")]
    pub artifacts_dir: Option<PathBuf>,
    /// The static site folder (default: site/)
    #[arg(long, env = "MUMBLE_SITE_DIR", value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// Deploy the templates in DIR (as written, and perhaps reviewed, by `synth --out DIR`)
    /// instead of synthesizing them
    #[arg(long, env = "MUMBLE_TEMPLATES_DIR", value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Deploy {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Allow replacing a table, bucket or user pool in a protected stage
    #[arg(long)]
    pub allow_replacement: bool,
    /// Create a change set for every stack, even one whose template and parameters are as the
    /// last release recorded (for a stack changed outside Mumble)
    #[arg(long)]
    pub force: bool,
    /// When only function code and site files changed, update those directly, without a change
    /// set (unprotected stages; anything else falls back to a full deploy)
    #[arg(long, conflicts_with = "dry_run")]
    pub hotswap: bool,
    #[command(flatten)]
    pub sources: Sources,
    /// Give up waiting for one stack after this many minutes
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,
    /// Wait for the CloudFront invalidation to complete
    #[arg(long)]
    pub wait: bool,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Diff {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub sources: Sources,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Cost {
    #[command(flatten)]
    pub stage: StageArg,
    /// A usage profile whose fields override xtask/cost/usage.yaml (a partial file is fine)
    #[arg(long, value_name = "FILE")]
    pub usage: Option<PathBuf>,
    /// Take the AWS Free Tier's monthly allowances off
    #[arg(long)]
    pub free_tier: bool,
    /// Also write an SVG chart of monthly cost against monthly active users
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Invalidate {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Paths to invalidate (default: /*)
    #[arg(long, num_args = 1..)]
    pub paths: Vec<String>,
    /// Wait until the invalidation completes
    #[arg(long)]
    pub wait: bool,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Outputs {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Logs {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Only these functions (default: all of the stage's functions)
    #[arg(long, short = 'f', value_name = "NAME")]
    pub function: Vec<String>,
    /// How far back to start: `10m`, `2h`, `1d`, or a time such as `2026-05-01T12:00:00Z`
    #[arg(long, default_value = "10m", value_name = "WHEN")]
    pub since: String,
    /// Keep printing new lines until Ctrl-C
    #[arg(long)]
    pub follow: bool,
    /// Only lines containing this text (case-sensitive)
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Only lines at this level or above: trace, debug, info, warn, error
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Only the lines of one request (the HTTP API's or Lambda's request id)
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
    /// Follow one picture across functions: its request, the worker, the image processor
    #[arg(long, value_name = "JOB_ID")]
    pub job: Option<String>,
    /// `json`: one JSON object per line on stdout
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Status {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The window the figures cover: `15m`, `1h`, `1d`, or a start time
    #[arg(long, default_value = "1h", value_name = "WHEN")]
    pub since: String,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Destroy {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Confirm without a prompt by repeating the stage name (for scripts)
    #[arg(long, value_name = "STAGE")]
    pub confirm: Option<String>,
}

#[derive(Debug, Args)]
pub struct Recover {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct Releases {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Rollback {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The release to put back (default: the one before the current release)
    #[arg(long, value_name = "ID")]
    pub to: Option<u64>,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what would be put back and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Give up waiting for one stack after this many minutes
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct Watch {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The static site folder (default: site/)
    #[arg(long, env = "MUMBLE_SITE_DIR", value_name = "DIR")]
    pub site: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Dev {
    /// Port of the local gateway on 127.0.0.1
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Open the app in a browser once it is up
    #[arg(long)]
    pub open: bool,
    /// Rebuild and restart when Rust code changes
    #[arg(long)]
    pub watch: bool,
    /// Wipe the local data folder first
    #[arg(long)]
    pub reset: bool,
    /// Folder keeping the local data between runs (default: .mumble in the workspace)
    #[arg(long, env = "MUMBLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Port of the AWS API emulator on 127.0.0.1 (the same on every run: the saved data replays to it)
    #[arg(long, default_value_t = 4566)]
    pub emulator_port: u16,
}

#[derive(Debug, Args)]
pub struct Secrets {
    #[command(subcommand)]
    pub action: SecretsAction,
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Store a secret as `/mumble/{stage}/{name}`: typed at a prompt without echo, or piped on stdin
    Set(SecretsSet),
    /// Which secrets a stage has, with type, version and date, never their values
    List(SecretsList),
}

#[derive(Debug, Args)]
pub struct SecretsSet {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The secret: openai-api-key or openweather-api-key
    pub name: String,
    /// Replace an existing value without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Only say whether the parameter would be created or replaced
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SecretsList {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Migrate {
    #[command(subcommand)]
    pub command: Option<MigrateCommand>,
    /// Stage name to migrate into
    #[arg(long, short = 's', env = "MUMBLE_STAGE", required = true)]
    pub stage: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The mongodump directory (optionally --gzip), or one mongoexport JSON Lines file
    /// (users.json, images.json)
    #[arg(long, value_name = "DIR|FILE", required = true)]
    pub from: Option<PathBuf>,
    /// The copy of the old host's uploads folder (holding images/...); needed for images
    #[arg(long, value_name = "DIR")]
    pub uploads: Option<PathBuf>,
    /// Read and map everything, write nothing, print the report
    #[arg(long)]
    pub dry_run: bool,
    /// Compare every image with the stage, not only those the old site changed since the last
    /// run (for files added to the uploads folder afterwards)
    #[arg(long)]
    pub full: bool,
    /// Do not ask for confirmation on a protected stage (required without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Where to list rejected documents and unavailable images (default:
    /// mumble-{stage}-rejects.jsonl in the current directory)
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// How many chunks of documents are written at the same time
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallel: usize,
    /// Stop the process abruptly after N documents, as a kill would (for resume tests)
    #[arg(long, hide = true, value_name = "N")]
    pub abort_after: Option<u64>,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Compare the dump with the stage: counts per user, a sample of records field by field,
    /// object checksums; exits non-zero on a difference
    Verify(MigrateVerify),
}

#[derive(Debug, Args)]
pub struct MigrateVerify {
    #[command(flatten)]
    pub stage: StageArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The dump the stage was migrated from
    #[arg(long, value_name = "DIR|FILE")]
    pub from: PathBuf,
    /// The uploads folder, to compare the copied files' checksums
    #[arg(long, value_name = "DIR")]
    pub uploads: Option<PathBuf>,
    /// Compare every Nth image record field by field (1: all of them)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub every: u64,
    #[arg(long, default_value_t, value_enum)]
    pub output: OutputFormat,
}
