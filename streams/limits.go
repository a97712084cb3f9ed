package streams

import "fmt"

// CheckBatch checks a Put batch against the Kinesis limits that every implementation
// enforces (MaxRecordsPerPut, MaxBytesPerPut, MaxRecordBytes, MaxPartitionKey) and
// returns its size: data plus partition keys. The error matches ErrInvalidArgument and
// names the first offending record.
func CheckBatch(entries []Entry) (int64, error) {
	if len(entries) > MaxRecordsPerPut {
		return 0, fmt.Errorf("%w: %d records, at most %d per put", ErrInvalidArgument, len(entries), MaxRecordsPerPut)
	}
	var total int64
	for i := range entries {
		if err := validEntry(&entries[i]); err != nil {
			return 0, fmt.Errorf("record %d: %w", i, err)
		}
		total += int64(len(entries[i].PartitionKey) + len(entries[i].Data))
	}
	if total > MaxBytesPerPut {
		return 0, fmt.Errorf("%w: %d bytes, at most %d per put", ErrInvalidArgument, total, MaxBytesPerPut)
	}
	return total, nil
}
