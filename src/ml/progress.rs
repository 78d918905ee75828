//! Training progress on a terminal, and cancellation of a training run.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use apiary_models::{EpochProgress, TrainProgress};

/// A flag that stops a training run; set when the statement that started it is dropped
/// (Ctrl-C in the REPL, a client gone) or cancelled.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Stops the run at its next mini-batch.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the run was stopped.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets its flag when dropped: held by the statement's future while training runs elsewhere.
#[derive(Debug)]
pub struct CancelOnDrop(pub CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Shows training progress (or nothing), and stops when the flag is set.
pub struct Progress {
    bar: bool,
    cancel: CancelFlag,
    label: String,
}

impl Progress {
    /// A progress bar on stderr when `bar`; `label` names the model.
    pub fn new(bar: bool, cancel: CancelFlag, label: String) -> Self {
        Self { bar, cancel, label }
    }

    /// Clears the bar's line.
    pub fn finish(&self) {
        if self.bar {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// One line of the bar: `[#####-----] epoch 12/200 train 20.13 valid 19.87 0:03 ETA 0:49`.
pub fn bar_line(label: &str, p: &EpochProgress) -> String {
    const WIDTH: usize = 20;
    let total = p.epochs.max(1);
    let done = (p.epoch * WIDTH / total).min(WIDTH);
    let eta = p
        .elapsed
        .mul_f64((total.saturating_sub(p.epoch)) as f64 / p.epoch.max(1) as f64);
    let valid = p
        .validation_nll
        .map_or(String::new(), |v| format!(" valid {v:.3}"));
    format!(
        "{label} [{}{}] epoch {}/{total} train {:.3}{valid} {} ETA {}",
        "#".repeat(done),
        "-".repeat(WIDTH - done),
        p.epoch,
        p.train_loss,
        clock(p.elapsed),
        clock(eta)
    )
}

impl TrainProgress for Progress {
    fn epoch_done(&mut self, p: &EpochProgress) {
        if self.bar {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{}", bar_line(&self.label, p));
            let _ = err.flush();
        }
    }

    fn is_cancelled(&mut self) -> bool {
        self.cancel.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_epoch_losses_and_eta() {
        let line = bar_line(
            "digits_nade",
            &EpochProgress {
                epoch: 10,
                epochs: 40,
                train_loss: 20.125,
                validation_nll: Some(19.5),
                best_epoch: 9,
                elapsed: Duration::from_secs(30),
            },
        );
        assert_eq!(
            line,
            "digits_nade [#####---------------] epoch 10/40 train 20.125 valid 19.500 0:30 ETA 1:30"
        );
    }

    #[test]
    fn dropping_the_guard_cancels() {
        let flag = CancelFlag::default();
        let mut progress = Progress::new(false, flag.clone(), String::new());
        assert!(!progress.is_cancelled());
        drop(CancelOnDrop(flag));
        assert!(progress.is_cancelled());
    }
}
