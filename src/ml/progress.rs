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
    steps: bool,
}

impl Progress {
    /// A progress bar on stderr when `bar`; `label` names the model.
    pub fn new(bar: bool, cancel: CancelFlag, label: String) -> Self {
        Self {
            bar,
            cancel,
            label,
            steps: false,
        }
    }

    /// The bar of a sequence model: AdamW steps, nats per token, tokens per second.
    pub fn with_steps(mut self) -> Self {
        self.steps = true;
        self
    }

    /// Clears the bar's line.
    pub fn finish(&self) {
        // Once cancelled, the shell has its prompt back: the line is no longer the bar's.
        if self.bar && !self.cancel.is_cancelled() {
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

/// `12.3k`, `4.56M`: a rate in few characters.
fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// One line of a sequence model's bar: `[#####-----] step 120/4000 loss 2.345 valid 2.310
/// nats/token 41.2k tok/s 0:12 ETA 6:28`; the ETA follows the share of the budget spent
/// (steps, or time with `max_minutes`).
pub fn step_line(label: &str, p: &EpochProgress) -> String {
    const WIDTH: usize = 20;
    let done = p.done.clamp(0.0, 1.0);
    let filled = ((done * WIDTH as f64) as usize).min(WIDTH);
    let eta = if done > 0.0 {
        p.elapsed.mul_f64((1.0 - done) / done)
    } else {
        Duration::ZERO
    };
    let valid = p
        .validation_nll
        .map_or(String::new(), |v| format!(" valid {v:.3}"));
    let speed = p
        .tokens_per_second
        .map_or(String::new(), |t| format!(" {} tok/s", rate(t)));
    format!(
        "{label} [{}{}] step {}/{} loss {:.3}{valid} nats/token{speed} {} ETA {}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        p.epoch,
        p.epochs,
        p.train_loss,
        clock(p.elapsed),
        clock(eta)
    )
}

impl TrainProgress for Progress {
    fn epoch_done(&mut self, p: &EpochProgress) {
        if self.bar && !self.cancel.is_cancelled() {
            let line = if self.steps {
                step_line(&self.label, p)
            } else {
                bar_line(&self.label, p)
            };
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
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
                tokens_per_second: None,
                done: 0.25,
            },
        );
        assert_eq!(
            line,
            "digits_nade [#####---------------] epoch 10/40 train 20.125 valid 19.500 0:30 ETA 1:30"
        );
    }

    #[test]
    fn the_step_bar_shows_steps_nats_per_token_speed_and_eta() {
        let line = step_line(
            "words_tf",
            &EpochProgress {
                epoch: 1000,
                epochs: 4000,
                train_loss: 2.0624,
                validation_nll: Some(2.125),
                best_epoch: 1000,
                elapsed: Duration::from_secs(60),
                tokens_per_second: Some(41_234.0),
                // A time budget spent faster than the steps: the ETA follows it.
                done: 0.5,
            },
        );
        assert_eq!(
            line,
            "words_tf [##########----------] step 1000/4000 loss 2.062 valid 2.125 nats/token \
             41.2k tok/s 1:00 ETA 1:00"
        );
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(2_500_000.0), "2.50M");
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
