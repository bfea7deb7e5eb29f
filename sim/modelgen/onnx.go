package modelgen

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file writes the few ONNX protobuf messages a model needs (ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto) straight
// to the wire format. Field numbers are those of onnx/onnx.proto; writing them
// by hand avoids generated code for a schema we only ever emit.

// ONNX tensor element types.
const (
	typeFloat = 1
	typeInt64 = 7
)

// AttributeProto.AttributeType values.
const (
	attrFloat  = 1
	attrInt    = 2
	attrTensor = 4
	attrInts   = 7
)

type msg []byte

func (m msg) bytes(field protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, field, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) str(field protowire.Number, s string) msg { return m.bytes(field, []byte(s)) }

func (m msg) varint(field protowire.Number, v int64) msg {
	m = protowire.AppendTag(m, field, protowire.VarintType)
	return protowire.AppendVarint(m, uint64(v))
}

func (m msg) float(field protowire.Number, f float32) msg {
	m = protowire.AppendTag(m, field, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, math.Float32bits(f))
}

// attr is one node attribute.
type attr struct {
	name string
	kind int
	i    int64
	f    float32
	ints []int64
	t    *tensor
}

func (a attr) encode() msg {
	m := msg(nil).str(1, a.name)
	switch a.kind {
	case attrFloat:
		m = m.float(2, a.f)
	case attrInt:
		m = m.varint(3, a.i)
	case attrTensor:
		m = m.bytes(5, a.t.encode())
	case attrInts:
		for _, v := range a.ints {
			m = m.varint(8, v)
		}
	}
	return m.varint(20, int64(a.kind))
}

func ai(name string, v int64) attr     { return attr{name: name, kind: attrInt, i: v} }
func ais(name string, v ...int64) attr { return attr{name: name, kind: attrInts, ints: v} }
func at(name string, t *tensor) attr   { return attr{name: name, kind: attrTensor, t: t} }
func nodeAttrs(a ...attr) []attr       { return a }
func shape(dims ...int64) []int64      { return dims }
func floats(v ...float32) []float32    { return v }
func int64s(v ...int64) []int64        { return v }

// tensor is an initializer or constant: float32 or int64 data in raw_data.
type tensor struct {
	name string
	dims []int64
	f    []float32
	i    []int64
}

func (t *tensor) encode() msg {
	var m msg
	for _, d := range t.dims {
		m = m.varint(1, d)
	}
	var raw []byte
	if t.i != nil {
		m = m.varint(2, typeInt64)
		raw = make([]byte, 8*len(t.i))
		for k, v := range t.i {
			binary.LittleEndian.PutUint64(raw[8*k:], uint64(v))
		}
	} else {
		m = m.varint(2, typeFloat)
		raw = make([]byte, 4*len(t.f))
		for k, v := range t.f {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v))
		}
	}
	if t.name != "" {
		m = m.str(8, t.name)
	}
	return m.bytes(9, raw)
}

type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []attr
}

func (n node) encode() msg {
	var m msg
	for _, in := range n.inputs {
		m = m.str(1, in)
	}
	for _, out := range n.outputs {
		m = m.str(2, out)
	}
	m = m.str(3, n.name).str(4, n.op)
	for _, a := range n.attrs {
		m = m.bytes(5, a.encode())
	}
	return m
}

// valueInfo is a float32 graph input or output with a fixed shape.
func valueInfo(name string, dims []int64) msg {
	var sh msg
	for _, d := range dims {
		sh = sh.bytes(1, msg(nil).varint(1, d))
	}
	tt := msg(nil).varint(1, typeFloat).bytes(2, sh)
	typ := msg(nil).bytes(1, tt)
	return msg(nil).str(1, name).bytes(2, typ)
}

// model assembles a ModelProto around one graph.
func model(graphName, doc string, opset int64, nodes []node, inits []*tensor, in, out msg, meta map[string]string, metaOrder []string) []byte {
	var g msg
	for _, n := range nodes {
		g = g.bytes(1, n.encode())
	}
	g = g.str(2, graphName)
	for _, t := range inits {
		g = g.bytes(5, t.encode())
	}
	g = g.bytes(11, in).bytes(12, out)

	m := msg(nil).varint(1, 8) // IR version 8 (ONNX 1.10+), read by every current runtime
	m = m.str(2, "soms-modelgen").str(3, "1")
	m = m.str(6, doc)
	m = m.bytes(7, g)
	m = m.bytes(8, msg(nil).str(1, "").varint(2, opset))
	for _, k := range metaOrder {
		m = m.bytes(14, msg(nil).str(1, k).str(2, meta[k]))
	}
	return m
}
