//! CPU time from `/proc`: of the `qbr` process, of PostgreSQL (the postmaster, its
//! children and its reaped children), of this program and of the whole machine. CPU
//! time is steadier than throughput on a shared machine. Linux only; `None` elsewhere.
use pg_cluster::PgCluster;
use std::time::Instant;

/// The processes whose CPU is measured.
pub struct Watched {
    pub qbr: u32,
    pub postmaster: Option<u32>,
    /// The unit of /proc's CPU times (`getconf CLK_TCK`).
    pub ticks_per_second: f64,
}

impl Watched {
    /// The `qbr` process `qbr_pid` and the PostgreSQL of `cluster`.
    pub fn new(qbr_pid: u32, cluster: &PgCluster) -> Watched {
        Watched {
            qbr: qbr_pid,
            postmaster: postmaster_pid(cluster),
            ticks_per_second: clock_ticks_per_second(),
        }
    }
}

/// `getconf CLK_TCK`, else Linux's usual 100.
pub fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// CPU seconds used over a measured window.
#[derive(Clone, Copy, Debug)]
pub struct CpuUse {
    pub wall: f64,
    pub qbr: f64,
    pub postgres: f64,
    /// This process: the load generator.
    pub bench: f64,
    /// The whole machine, from /proc/stat.
    pub busy: f64,
    pub idle: f64,
}

impl CpuUse {
    /// CPU seconds per second of wall time.
    pub fn cores(&self, seconds: f64) -> f64 {
        seconds / self.wall
    }

    /// Everything else the machine ran meanwhile.
    pub fn other(&self) -> f64 {
        (self.busy - self.qbr - self.postgres - self.bench).max(0.0)
    }
}

/// Cumulative CPU ticks at one instant.
pub struct CpuSnapshot {
    at: Instant,
    qbr: u64,
    postgres: u64,
    bench: u64,
    busy: u64,
    idle: u64,
}

impl CpuSnapshot {
    /// `None` when /proc cannot be read (not Linux, the server gone).
    pub fn take(w: &Watched) -> Option<CpuSnapshot> {
        let at = Instant::now();
        let qbr = proc_times(&format!("/proc/{}/stat", w.qbr))?.own;
        let bench = proc_times("/proc/self/stat")?.own;
        let postgres = w.postmaster.map_or(0, postgres_ticks);
        let (busy, idle) = machine_ticks()?;
        Some(CpuSnapshot {
            at,
            qbr,
            postgres,
            bench,
            busy,
            idle,
        })
    }

    /// The CPU used between two snapshots.
    pub fn usage(
        before: Option<CpuSnapshot>,
        after: Option<CpuSnapshot>,
        ticks_per_second: f64,
    ) -> Option<CpuUse> {
        let (b, a) = (before?, after?);
        let wall = (a.at - b.at).as_secs_f64();
        if wall <= 0.0 {
            return None;
        }
        let secs = |after: u64, before: u64| after.saturating_sub(before) as f64 / ticks_per_second;
        Some(CpuUse {
            wall,
            qbr: secs(a.qbr, b.qbr),
            postgres: secs(a.postgres, b.postgres),
            bench: secs(a.bench, b.bench),
            busy: secs(a.busy, b.busy),
            idle: secs(a.idle, b.idle),
        })
    }
}

/// The CPU fields of one /proc/<pid>/stat, in ticks.
struct ProcTimes {
    ppid: u32,
    /// utime + stime: the process's threads, alive and exited.
    own: u64,
    /// cutime + cstime: its children that exited and were waited for.
    children: u64,
}

fn proc_times(path: &str) -> Option<ProcTimes> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Option<u64> { fields.get(i)?.parse().ok() };
    Some(ProcTimes {
        ppid: fields.get(1)?.parse().ok()?,
        own: field(11)? + field(12)?,
        children: field(13)? + field(14)?,
    })
}

/// CPU ticks of PostgreSQL: the postmaster, its living children (backends, background
/// processes), and its exited children, so a backend that ends mid-window still counts.
fn postgres_ticks(postmaster: u32) -> u64 {
    let Some(root) = proc_times(&format!("/proc/{postmaster}/stat")) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let living: u64 = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let t = proc_times(&format!("/proc/{pid}/stat"))?;
            (t.ppid == postmaster).then_some(t.own)
        })
        .sum();
    root.own + root.children + living
}

/// The whole machine's (busy, idle + iowait) ticks, from /proc/stat.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user already).
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    let busy = fields.iter().take(8).sum::<u64>() - idle;
    Some((busy, idle))
}

/// The postmaster's pid, from the first line of `postmaster.pid`.
pub fn postmaster_pid(cluster: &PgCluster) -> Option<u32> {
    std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The CPU's model name, from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The 1, 5 and 15 minute load averages: how busy the shared machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Cores this program may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}
