package heapsnap

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// WriteSyntheticSnapshot writes a heap snapshot in V8's format with a known shape, for
// tests and the benchmark (a real 500 MB snapshot takes a 2 GB heap to make): the root
// holds Holder objects, each Holder an array of up to 1000 Items, each Item a Leaf and a
// string, a strong link to the previous Item of its Holder, a weak link to a random Item and three
// links to shared strings (so there are about 2.5 edges per node, as in real heaps). It
// returns the number of objects of each class. About 180 bytes of file per item.
func WriteSyntheticSnapshot(w io.Writer, items int, seed uint64) (map[string]int, error) {
	const perHolder = 1000
	if items < 1 {
		items = 1
	}
	holders := (items + perHolder - 1) / perHolder
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]},`)
	const shared = 1000 // interned strings every Item points at, as real heaps share names
	nodes := 1 + 2*holders + 3*items + shared
	bw.WriteString(`"node_count":` + strconv.Itoa(nodes) + `,"edge_count":0,"trace_function_count":0},` + "\n" + `"nodes":[`)
	const (
		tArray, tString, tObject, tSynthetic = 1, 2, 3, 9
		eElement, eProperty, eWeak           = 1, 2, 6
		sHolder, sItem, sLeaf                = 1, 2, 3
		sItems, sName, sLeafProp, sNext, sW  = 4, 5, 6, 7, 8
		sValues                              = 9
		nf                                   = 7
	)
	var num []byte
	id := uint64(1)
	first := true
	node := func(typ, name, size, edges int) {
		num = num[:0]
		if !first {
			num = append(num, ",\n"...)
		}
		first = false
		for i, v := range []uint64{uint64(typ), uint64(name), id, uint64(size), uint64(edges), 0, 0} {
			if i > 0 {
				num = append(num, ',')
			}
			num = strconv.AppendUint(num, v, 10)
		}
		id += 2
		bw.Write(num)
	}
	itemBase := 1 + 2*holders
	node(tSynthetic, 0, 0, holders)
	for h := 0; h < holders; h++ {
		k := min(perHolder, items-h*perHolder)
		node(tObject, sHolder, 32, 1)
		node(tArray, 0, 16+8*k, k)
	}
	for i := 0; i < items; i++ {
		edges := 3 + 3
		if i%perHolder != 0 {
			edges++
		}
		node(tObject, sItem, 48, edges)
		node(tObject, sLeaf, 24, 0)
		node(tString, sValues+i%1000, 40, 0)
	}
	sharedBase := itemBase + 3*items
	for k := 0; k < shared; k++ {
		node(tString, sValues+k, 32, 0)
	}
	bw.WriteString("],\n\"edges\":[")
	first = true
	edge := func(typ, name, to int) {
		num = num[:0]
		if !first {
			num = append(num, ",\n"...)
		}
		first = false
		num = strconv.AppendUint(num, uint64(typ), 10)
		num = append(num, ',')
		num = strconv.AppendUint(num, uint64(name), 10)
		num = append(num, ',')
		num = strconv.AppendUint(num, uint64(to*nf), 10)
		bw.Write(num)
	}
	for h := 0; h < holders; h++ {
		edge(eElement, h, 1+2*h)
	}
	for h := 0; h < holders; h++ {
		edge(eProperty, sItems, 2+2*h)
		for i := h * perHolder; i < min((h+1)*perHolder, items); i++ {
			edge(eElement, i-h*perHolder, itemBase+3*i)
		}
	}
	for i := 0; i < items; i++ {
		edge(eProperty, sName, itemBase+3*i+2)
		edge(eProperty, sLeafProp, itemBase+3*i+1)
		if i%perHolder != 0 {
			edge(eProperty, sNext, itemBase+3*(i-1))
		}
		j := rng.IntN(items)
		edge(eWeak, sW, itemBase+3*j)
		for k := 0; k < 3; k++ {
			edge(eProperty, sName, sharedBase+rng.IntN(shared))
		}
	}
	bw.WriteString("],\n\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[],\n\"strings\":[\"\",\"Holder\",\"Item\",\"Leaf\",\"items\",\"name\",\"leaf\",\"next\",\"w\"")
	for v := 0; v < 1000; v++ {
		bw.WriteString(",\n\"s" + strconv.Itoa(v) + "\"")
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	// Every shared string is the target of some Item only when items is large; the ones no
	// Item points at are unreachable and not counted.
	return map[string]int{"Holder": holders, "(array)": holders, "Item": items, "Leaf": items}, nil
}
