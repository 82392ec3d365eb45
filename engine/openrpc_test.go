package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type tree struct {
	Name     string  `json:"name"`
	Children []*tree `json:"children,omitempty"`
}

// discover returns the rpc.discover result of an engine with the demo
// methods and a few shapes more.
func discover(t *testing.T) []byte {
	t.Helper()
	e := newDemo(t, engine.WithIntrospection(), engine.WithOpenRPCInfo("demo", "2.0.0"))
	must(t, engine.Register(e, "plant", func(_ context.Context, p struct {
		Root  tree              `json:"root"`
		Tags  map[string]string `json:"tags,omitempty"`
		Limit *int              `json:"limit"`
		Blob  []byte            `json:"blob,omitempty"`
	}) ([]tree, error) {
		return nil, nil
	}, engine.Describe("grows a tree")))
	must(t, engine.Register(e, "sum", func(_ context.Context, xs []float64) (float64, error) { return 0, nil }, engine.ParamNames("numbers")))
	must(t, e.RegisterRaw("raw", func(c *engine.Call) error { return nil }, engine.ParamNames("a", "b")))
	var resp struct{ Result json.RawMessage }
	if err := json.Unmarshal(e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"rpc.discover","id":1}`)), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.Result
}

// TestOpenRPCMetaSchema validates rpc.discover's document against the
// OpenRPC meta-schema (testdata/openrpc, see its README).
func TestOpenRPCMetaSchema(t *testing.T) {
	doc := discover(t)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	for url, file := range map[string]string{
		"https://meta.open-rpc.org/":      "testdata/openrpc/openrpc-meta-schema.json",
		"https://meta.json-schema.tools/": "testdata/openrpc/json-schema-tools-meta-schema.json",
	} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// One reference omits the trailing slash of the other schema's $id.
		raw = bytes.ReplaceAll(raw, []byte(`"https://meta.json-schema.tools"`), []byte(`"https://meta.json-schema.tools/"`))
		var schema map[string]any
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		delete(schema, "$schema") // see testdata/openrpc/README.md
		if err := c.AddResource(url, schema); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("https://meta.open-rpc.org/")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("rpc.discover's document is not valid OpenRPC: %v\n%s", err, doc)
	}
	// And the check can fail: a document without methods is refused.
	if bad, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"openrpc":"1.3.2","info":{"title":"x","version":"1"}}`))); sch.Validate(bad) == nil {
		t.Error("the meta-schema accepts a document without methods")
	}
}

func TestOpenRPCContent(t *testing.T) {
	var doc struct {
		OpenRPC string
		Info    struct{ Title, Version string }
		Methods []struct {
			Name, Description, ParamStructure string
			Params                            []struct {
				Name     string
				Required bool
				Schema   map[string]any
			}
			Result struct{ Schema map[string]any }
		}
	}
	if err := json.Unmarshal(discover(t), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenRPC != engine.OpenRPCVersion || doc.Info.Title != "demo" || doc.Info.Version != "2.0.0" {
		t.Errorf("header: %s %+v", doc.OpenRPC, doc.Info)
	}
	byName := map[string]int{}
	for i, m := range doc.Methods {
		byName[m.Name] = i
	}
	if _, ok := byName["rpc.discover"]; ok {
		t.Error("rpc.discover lists itself")
	}
	add := doc.Methods[byName["add"]]
	if add.ParamStructure != "either" || len(add.Params) != 2 || add.Params[0].Name != "a" || !add.Params[0].Required ||
		add.Params[1].Schema["type"] != "number" || add.Result.Schema["type"] != "number" || add.Description == "" {
		t.Errorf("add: %+v", add)
	}
	plant := doc.Methods[byName["plant"]]
	if len(plant.Params) != 4 || !plant.Params[0].Required || plant.Params[1].Required || plant.Params[2].Required ||
		plant.Params[0].Schema["type"] != "object" || plant.Result.Schema["type"] != "array" {
		t.Errorf("plant: %+v", plant)
	}
	if sum := doc.Methods[byName["sum"]]; sum.ParamStructure != "by-position" || sum.Params[0].Name != "numbers" {
		t.Errorf("sum: %+v", sum)
	}
	if raw := doc.Methods[byName["raw"]]; len(raw.Params) != 2 || raw.Params[1].Name != "b" {
		t.Errorf("raw: %+v", raw)
	}
}
