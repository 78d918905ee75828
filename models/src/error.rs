//! The crate's one error type.

/// What went wrong, with the context a user needs to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A vector's length is not the model's (or the training set's) input length.
    #[error("input has {found} values, the model takes {expected}")]
    WrongInputLength {
        /// The input length the model was trained on.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A value other than 0 or 1 in a binary vector.
    #[error("value {value} at position {position} is not a bit (0 or 1)")]
    NotABit {
        /// 0-based position of the value in its vector.
        position: usize,
        /// The offending value.
        value: i64,
    },
    /// Training was asked to learn from no rows.
    #[error("the training set is empty")]
    EmptyTrainingSet,
    /// An input length of zero, or one too large for the model type.
    #[error("input length {n} is not supported by {model_type}: {reason}")]
    BadInputLength {
        /// The model type.
        model_type: String,
        /// The input length asked for.
        n: usize,
        /// Why it is refused.
        reason: String,
    },
    /// A `model_type` that does not exist.
    #[error("unknown model type '{0}' (known: bernoulli, fvsbn, nade, bigram, transformer)")]
    UnknownModelType(String),
    /// An option that the model type does not take.
    #[error("unknown option '{option}' for model type {model_type} (it takes: {known})")]
    UnknownOption {
        /// The model type.
        model_type: String,
        /// The option given.
        option: String,
        /// The options it does take, comma-separated.
        known: String,
    },
    /// An option whose value cannot be used.
    #[error("option {option} = '{value}' is invalid: expected {expected}")]
    BadOptionValue {
        /// The option.
        option: String,
        /// Its value, as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A sampling temperature that is not a finite number above zero.
    #[error("temperature {0} is invalid: expected a finite number > 0")]
    BadTemperature(f64),
    /// A completion prefix longer than the model's input.
    #[error("prefix has {found} values, longer than the model's input length {n}")]
    PrefixTooLong {
        /// The model's input length.
        n: usize,
        /// The prefix length given.
        found: usize,
    },
    /// A completion prefix with more tokens than a sample may have.
    #[error("the prefix has {tokens} tokens, more than max_len = {max_len}")]
    SequencePrefixTooLong {
        /// Tokens in the prefix.
        tokens: usize,
        /// The most tokens a completion may have.
        max_len: usize,
    },
    /// An output buffer of the wrong size was passed to a batch function.
    #[error("output buffer holds {found} values, {expected} needed")]
    WrongOutputLength {
        /// Values needed.
        expected: usize,
        /// Values the buffer holds.
        found: usize,
    },
    /// Training was cancelled through its progress callback.
    #[error("training cancelled")]
    Cancelled,
    /// Training diverged (a loss or weight became NaN or infinite).
    #[error("training diverged at epoch {epoch}: try a smaller learning_rate")]
    Diverged {
        /// The 1-based epoch where it happened.
        epoch: usize,
    },
    /// Training diverged (a loss or weight became NaN or infinite) at an AdamW step.
    #[error("training diverged at step {step}: try a smaller learning_rate")]
    DivergedAtStep {
        /// The 1-based step where it happened.
        step: usize,
    },
    /// Input a model cannot take (a string for an id model, an id outside the vocabulary…).
    #[error("{0}")]
    BadInput(String),
    /// A sequence with more tokens than the model's context.
    #[error(
        "the sequence has {tokens} tokens with its end token, more than the model's context of {context}"
    )]
    SequenceTooLong {
        /// Tokens, the end token counted.
        tokens: usize,
        /// The model's `context`.
        context: usize,
    },
    /// An operation the model type does not have.
    #[error("{model_type} models have no {what}")]
    Unsupported {
        /// The model type.
        model_type: String,
        /// What was asked for.
        what: String,
    },
    /// Stored model bytes that cannot be read back.
    #[error("corrupt model file: {0}")]
    Corrupt(String),
}

/// The crate's result type.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
