//! Arrow IPC data a client uploads with DoPut (prepared-statement parameters, bulk ingest):
//! every message is checked before arrow-ipc decodes it, and the decoder is contained.
//!
//! arrow-ipc trusts its input in places: a schema field of an unknown type or unit panics, a
//! compressed buffer that declares a huge uncompressed length makes it allocate that much
//! (a failed allocation aborts the process), a buffer past the body panics. So before a
//! message reaches the decoder its header is checked ([`check_message`]): the types of a
//! schema, the buffers, row counts and declared lengths of a batch. What gets past the checks
//! and still makes the decoder panic fails the upload, not the server ([`ClientBatches`]
//! catches the panic). Each failure is INVALID_ARGUMENT, naming the problem.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_flight::FlightData;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use datafusion::arrow::datatypes::{
    DataType, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, SchemaRef,
    validate_decimal_precision_and_scale,
};
use datafusion::arrow::ipc;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{Stream, StreamExt, TryStreamExt};
use tonic::Status;

/// The most rows one uploaded record batch may declare.
pub const MAX_BATCH_ROWS: i64 = 1 << 24;

/// The most bytes the compressed buffers of one uploaded message may declare uncompressed.
pub const MAX_UNCOMPRESSED_MESSAGE_BYTES: i64 = 256 << 20;

/// How deep the fields of an uploaded schema may nest.
const MAX_FIELD_DEPTH: usize = 64;

/// An upload's messages, checked, decoded into record batches whose types are checked.
pub struct ClientBatches {
    /// The decoder; `None` once it failed.
    decoder: Option<FlightRecordBatchStream>,
}

impl ClientBatches {
    /// Decodes `messages` (an upload's FlightData, in order).
    pub fn new<S>(messages: S) -> ClientBatches
    where
        S: Stream<Item = Result<FlightData, Status>> + Send + 'static,
    {
        let checked = messages
            .and_then(|d| futures::future::ready(check_message(&d).map(|()| d)))
            .map_err(FlightError::from);
        ClientBatches {
            decoder: Some(FlightRecordBatchStream::new_from_flight_data(checked)),
        }
    }

    /// The upload's schema, once its schema message was read.
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.decoder.as_ref().and_then(|d| d.schema())
    }
}

impl Stream for ClientBatches {
    type Item = Result<RecordBatch, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(decoder) = self.decoder.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| decoder.poll_next_unpin(cx)));
        let outcome = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(None)) => return Poll::Ready(None),
            Ok(Poll::Ready(Some(Ok(batch)))) => check_types(
                batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().as_str(), f.data_type())),
            )
            .map(|()| batch),
            Ok(Poll::Ready(Some(Err(e)))) => Err(decode_error(e)),
            Err(panic) => Err(invalid(format!(
                "the Arrow IPC data could not be decoded ({})",
                panic_message(panic.as_ref())
            ))),
        };
        if outcome.is_err() {
            self.decoder = None;
        }
        Poll::Ready(Some(outcome))
    }
}

/// Checks the types of an upload's columns: what arrow-ipc lets through but Arrow cannot
/// hold (a decimal whose scale exceeds its precision, ...).
pub fn check_types<'a>(
    columns: impl IntoIterator<Item = (&'a str, &'a DataType)>,
) -> Result<(), Status> {
    for (name, data_type) in columns {
        check_type(data_type, 0)
            .map_err(|problem| invalid(format!("column {name:?}: {problem}")))?;
    }
    Ok(())
}

fn check_type(data_type: &DataType, depth: usize) -> Result<(), String> {
    if depth > MAX_FIELD_DEPTH {
        return Err(format!("types nest more than {MAX_FIELD_DEPTH} deep"));
    }
    let decimal = match data_type {
        DataType::Decimal32(p, s) => validate_decimal_precision_and_scale::<Decimal32Type>(*p, *s),
        DataType::Decimal64(p, s) => validate_decimal_precision_and_scale::<Decimal64Type>(*p, *s),
        DataType::Decimal128(p, s) => {
            validate_decimal_precision_and_scale::<Decimal128Type>(*p, *s)
        }
        DataType::Decimal256(p, s) => {
            validate_decimal_precision_and_scale::<Decimal256Type>(*p, *s)
        }
        _ => Ok(()),
    };
    decimal.map_err(|e| format!("{data_type}: {e}"))?;
    let children: Vec<&DataType> = match data_type {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => vec![f.data_type()],
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type()).collect(),
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| f.data_type()).collect(),
        DataType::Dictionary(key, value) => vec![key.as_ref(), value.as_ref()],
        DataType::RunEndEncoded(ends, values) => vec![ends.data_type(), values.data_type()],
        _ => Vec::new(),
    };
    children
        .into_iter()
        .try_for_each(|child| check_type(child, depth + 1))
}

/// Checks one FlightData message of an upload before arrow-ipc decodes it.
pub fn check_message(data: &FlightData) -> Result<(), Status> {
    if data.data_header.is_empty() {
        return Ok(());
    }
    let message = ipc::root_as_message(&data.data_header)
        .map_err(|e| invalid(format!("a message is not an Arrow IPC message ({e})")))?;
    if let Some(schema) = message.header_as_schema() {
        return check_schema(schema).map_err(|problem| invalid(format!("the schema: {problem}")));
    }
    let batch = message
        .header_as_record_batch()
        .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
    match batch {
        Some(batch) => check_batch(batch, &data.data_body)
            .map_err(|problem| invalid(format!("a record batch: {problem}"))),
        None => Ok(()),
    }
}

fn check_schema(schema: ipc::Schema<'_>) -> Result<(), String> {
    if schema.endianness() == ipc::Endianness::Big {
        return Err("big-endian data is not supported".into());
    }
    let fields = schema.fields().ok_or("it has no list of fields")?;
    fields.iter().try_for_each(|f| check_field(f, 0))
}

/// Whether arrow-ipc can turn this schema field into an Arrow field without panicking.
fn check_field(field: ipc::Field<'_>, depth: usize) -> Result<(), String> {
    use ipc::{DateUnit, IntervalUnit, Precision, TimeUnit, Type, UnionMode};
    let name = field.name().unwrap_or_default();
    if depth > MAX_FIELD_DEPTH {
        return Err(format!(
            "field {name:?} nests more than {MAX_FIELD_DEPTH} deep"
        ));
    }
    let children = field.children().map_or(0, |c| c.len());
    let int_width = |w: i32| matches!(w, 8 | 16 | 32 | 64);
    let any_unit = |u: TimeUnit| {
        matches!(
            u,
            TimeUnit::SECOND | TimeUnit::MILLISECOND | TimeUnit::MICROSECOND | TimeUnit::NANOSECOND
        )
    };
    if let Some(dictionary) = field.dictionary()
        && !dictionary
            .indexType()
            .is_some_and(|int| int_width(int.bitWidth()))
    {
        return Err(format!(
            "field {name:?}: a dictionary's index type must be an integer of 8, 16, 32 or 64 bits"
        ));
    }
    let t = field.type_type();
    let valid = match t {
        Type::Null
        | Type::Bool
        | Type::Binary
        | Type::BinaryView
        | Type::LargeBinary
        | Type::Utf8
        | Type::Utf8View
        | Type::LargeUtf8
        | Type::Struct_ => true,
        Type::Int => field.type_as_int().is_some_and(|i| int_width(i.bitWidth())),
        Type::FixedSizeBinary => field
            .type_as_fixed_size_binary()
            .is_some_and(|b| b.byteWidth() >= 0),
        Type::FloatingPoint => field.type_as_floating_point().is_some_and(|f| {
            matches!(
                f.precision(),
                Precision::HALF | Precision::SINGLE | Precision::DOUBLE
            )
        }),
        Type::Date => field
            .type_as_date()
            .is_some_and(|d| matches!(d.unit(), DateUnit::DAY | DateUnit::MILLISECOND)),
        Type::Time => field.type_as_time().is_some_and(|time| {
            matches!(
                (time.bitWidth(), time.unit()),
                (32, TimeUnit::SECOND | TimeUnit::MILLISECOND)
                    | (64, TimeUnit::MICROSECOND | TimeUnit::NANOSECOND)
            )
        }),
        Type::Timestamp => field
            .type_as_timestamp()
            .is_some_and(|s| any_unit(s.unit())),
        Type::Duration => field.type_as_duration().is_some_and(|d| any_unit(d.unit())),
        Type::Interval => field.type_as_interval().is_some_and(|i| {
            matches!(
                i.unit(),
                IntervalUnit::YEAR_MONTH | IntervalUnit::DAY_TIME | IntervalUnit::MONTH_DAY_NANO
            )
        }),
        Type::List | Type::LargeList | Type::ListView | Type::LargeListView => children == 1,
        Type::FixedSizeList => {
            children == 1
                && field
                    .type_as_fixed_size_list()
                    .is_some_and(|l| l.listSize() >= 0)
        }
        Type::Map => children == 1 && field.type_as_map().is_some(),
        Type::RunEndEncoded => children == 2,
        Type::Decimal => field.type_as_decimal().is_some_and(|d| {
            matches!(d.bitWidth(), 32 | 64 | 128 | 256)
                && u8::try_from(d.precision()).is_ok()
                && i8::try_from(d.scale()).is_ok()
        }),
        Type::Union => field.type_as_union().is_some_and(|u| {
            matches!(u.mode(), UnionMode::Sparse | UnionMode::Dense)
                && u.typeIds().is_none_or(|ids| {
                    let mut seen = std::collections::HashSet::new();
                    ids.len() == children
                        && ids
                            .iter()
                            .all(|id| (0..128).contains(&id) && seen.insert(id))
                })
        }),
        _ => false,
    };
    if !valid {
        return Err(format!(
            "field {name:?} has an unsupported or malformed type ({})",
            t.variant_name().unwrap_or("unknown")
        ));
    }
    field
        .children()
        .into_iter()
        .flatten()
        .try_for_each(|child| check_field(child, depth + 1))
}

/// Checks a batch's row counts, buffers and declared uncompressed lengths against its body.
fn check_batch(batch: ipc::RecordBatch<'_>, body: &[u8]) -> Result<(), String> {
    let rows = batch.length();
    if !(0..=MAX_BATCH_ROWS).contains(&rows) {
        return Err(format!(
            "it declares {rows} rows; a batch may hold at most {MAX_BATCH_ROWS}"
        ));
    }
    for node in batch.nodes().into_iter().flatten() {
        // Child arrays (list values) may be longer than the batch, never beyond an i32 list.
        if !(0..=i64::from(i32::MAX)).contains(&node.length())
            || !(0..=node.length()).contains(&node.null_count())
        {
            return Err(format!(
                "an array declares {} values of which {} null",
                node.length(),
                node.null_count()
            ));
        }
    }
    let buffers = batch.buffers();
    let count = buffers.map_or(0, |b| b.len());
    if let Some(counts) = batch.variadicBufferCounts()
        && counts
            .iter()
            .any(|c| usize::try_from(c).is_ok_and(|c| c > count) || c < 0)
    {
        return Err("its variadic buffer counts exceed its buffers".into());
    }
    let compressed = batch.compression().is_some();
    let mut declared: i64 = 0;
    for buffer in buffers.into_iter().flatten() {
        let bytes = usize::try_from(buffer.offset())
            .ok()
            .zip(usize::try_from(buffer.length()).ok())
            .and_then(|(start, length)| body.get(start..start.checked_add(length)?))
            .ok_or_else(|| {
                format!(
                    "a buffer ({} bytes at {}) lies outside the message body ({} bytes)",
                    buffer.length(),
                    buffer.offset(),
                    body.len()
                )
            })?;
        if !compressed || bytes.is_empty() {
            continue;
        }
        let length = bytes
            .first_chunk::<8>()
            .map(|prefix| i64::from_le_bytes(*prefix))
            .ok_or("a compressed buffer is shorter than its length prefix")?;
        // -1: the buffer is stored uncompressed.
        if length < -1 {
            return Err(format!(
                "a compressed buffer declares {length} bytes uncompressed"
            ));
        }
        declared = declared.saturating_add(length.max(0));
        if declared > MAX_UNCOMPRESSED_MESSAGE_BYTES {
            return Err(format!(
                "its compressed buffers declare more than {MAX_UNCOMPRESSED_MESSAGE_BYTES} bytes \
                 uncompressed, the most one message may"
            ));
        }
    }
    Ok(())
}

/// A decoding failure as the client's error.
fn decode_error(e: FlightError) -> Status {
    match e {
        FlightError::Tonic(status) => *status,
        other => invalid(format!("the Arrow IPC data could not be decoded: {other}")),
    }
}

fn invalid(problem: String) -> Status {
    Status::invalid_argument(format!("invalid upload: {problem}"))
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("the decoder panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_scale_above_precision_is_refused() {
        let bad = DataType::Decimal128(2, 5);
        let err = check_types([("d", &bad)])
            .err()
            .map(|s| s.message().to_string());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("\"d\"") && m.contains("scale")),
            "{err:?}"
        );
        let nested = DataType::new_list(bad, true);
        assert!(check_types([("l", &nested)]).is_err());
        let fine = DataType::Decimal128(10, 2);
        assert!(check_types([("d", &fine)]).is_ok());
    }
}
