package lens

import "strings"

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Input  float64 `json:"input" yaml:"input"`
	Output float64 `json:"output" yaml:"output"`
}

// Cost is the cost in USD of inputTokens and outputTokens at p.
func (p Price) Cost(inputTokens, outputTokens int64) float64 {
	return (float64(inputTokens)*p.Input + float64(outputTokens)*p.Output) / 1e6
}

// Pricing maps provider name to model to price.
type Pricing map[string]map[string]Price

// DefaultPricing holds list prices (USD per million tokens, standard tier,
// no batch or cache discounts) of common models as published by the
// providers in 2025. Prices change: override them from code
// (Scenario.Price, or a Pricing of your own) or from the configuration's
// providers[].pricing. A model missing here has no cost — absent, not zero.
var DefaultPricing = Pricing{
	"openai": {
		"gpt-4o":        {2.50, 10.00},
		"gpt-4o-mini":   {0.15, 0.60},
		"gpt-4.1":       {2.00, 8.00},
		"gpt-4.1-mini":  {0.40, 1.60},
		"gpt-4.1-nano":  {0.10, 0.40},
		"gpt-4-turbo":   {10.00, 30.00},
		"gpt-3.5-turbo": {0.50, 1.50},
		"o3-mini":       {1.10, 4.40},
		"o4-mini":       {1.10, 4.40},
	},
	"anthropic": {
		"claude-opus-4":     {15.00, 75.00},
		"claude-sonnet-4":   {3.00, 15.00},
		"claude-sonnet-4-5": {3.00, 15.00},
		"claude-3-7-sonnet": {3.00, 15.00},
		"claude-3-5-sonnet": {3.00, 15.00},
		"claude-3-5-haiku":  {0.80, 4.00},
		"claude-3-opus":     {15.00, 75.00},
		"claude-3-sonnet":   {3.00, 15.00},
		"claude-3-haiku":    {0.25, 1.25},
	},
	"gemini": {
		"gemini-2.5-pro":   {1.25, 10.00},
		"gemini-2.5-flash": {0.30, 2.50},
		"gemini-2.0-flash": {0.10, 0.40},
		"gemini-1.5-pro":   {1.25, 5.00},
		"gemini-1.5-flash": {0.075, 0.30},
	},
	"cohere": {
		"command-a-03-2025": {2.50, 10.00},
		"command-r-plus":    {2.50, 10.00},
		"command-r":         {0.15, 0.60},
	},
}

// Lookup finds the price of model at provider. Provider names are matched
// by kind ("vertex" uses the gemini table, "azure" the openai one), and a
// model matches a table entry exactly or as a dated or versioned variant
// of it ("gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022"); the longest
// such entry wins.
func (p Pricing) Lookup(provider, model string) (Price, bool) {
	table := p[provider]
	if table == nil {
		switch provider {
		case "vertex", "google":
			table = p["gemini"]
		case "azure", "openai-responses":
			table = p["openai"]
		}
	}
	if pr, ok := table[model]; ok {
		return pr, true
	}
	best, found := "", false
	var price Price
	for name, pr := range table {
		if strings.HasPrefix(model, name+"-") && len(name) > len(best) {
			best, price, found = name, pr, true
		}
	}
	return price, found
}
