package kinesis

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the KCL 2.x lease item (DynamoDBLeaseSerializer).
const (
	attrLeaseKey      = "leaseKey"
	attrLeaseOwner    = "leaseOwner"
	attrLeaseCounter  = "leaseCounter"
	attrCheckpoint    = "checkpoint"
	attrCheckpointSub = "checkpointSubSequenceNumber"
	attrOwnerSwitches = "ownerSwitchesSinceCheckpoint"
	attrParentShardID = "parentShardId"
)

// leaseItem is one row of a lease table.
type leaseItem struct {
	key           string // the shard ID
	owner         string // "" when unowned
	counter       int64
	checkpoint    string // a sequence number or a sentinel
	ownerSwitches int64
	parents       []string
}

func (it leaseItem) attributes() map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		attrLeaseKey:      &types.AttributeValueMemberS{Value: it.key},
		attrLeaseCounter:  num(it.counter),
		attrCheckpoint:    &types.AttributeValueMemberS{Value: it.checkpoint},
		attrCheckpointSub: num(0),
		attrOwnerSwitches: num(it.ownerSwitches),
	}
	if it.owner != "" {
		m[attrLeaseOwner] = &types.AttributeValueMemberS{Value: it.owner}
	}
	if len(it.parents) > 0 {
		m[attrParentShardID] = &types.AttributeValueMemberSS{Value: it.parents}
	}
	return m
}

func parseItem(m map[string]types.AttributeValue) (leaseItem, error) {
	var it leaseItem
	var err error
	str := func(name string) string {
		if v, ok := m[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	number := func(name string) int64 {
		v, ok := m[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0
		}
		n, perr := strconv.ParseInt(v.Value, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("lease item attribute %s: %q is not an integer", name, v.Value)
		}
		return n
	}
	it.key = str(attrLeaseKey)
	if it.key == "" {
		return it, fmt.Errorf("lease item without %s", attrLeaseKey)
	}
	it.owner = str(attrLeaseOwner)
	it.counter = number(attrLeaseCounter)
	it.checkpoint = str(attrCheckpoint)
	it.ownerSwitches = number(attrOwnerSwitches)
	if v, ok := m[attrParentShardID].(*types.AttributeValueMemberSS); ok {
		it.parents = v.Value
	}
	return it, err
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: s}
}

func key(shardID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrLeaseKey: str(shardID)}
}
