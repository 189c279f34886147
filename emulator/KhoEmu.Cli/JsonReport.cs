using System.Text.Json;
using System.Text.Json.Nodes;

namespace KhoEmu.Cli;

/// <summary>
/// `khoemu test --json FILE`: per scenario its checks with their verdicts ("pass", "fail", "skip"), instructions,
/// wall time, how the machine ended and the KHO oracle's totals over every handover; the closing totals (docs/testing.md).
/// </summary>
internal static class JsonReport
{
    public static JsonObject Build(IReadOnlyList<ScenarioOutcome> outcomes, DateTime started)
    {
        var scenarios = new JsonArray();
        foreach (var o in outcomes)
        {
            var checks = new JsonArray();
            foreach (var c in o.Checks)
                checks.Add(new JsonObject
                {
                    ["name"] = c.Name,
                    ["verdict"] = c.Verdict switch { Verdict.Pass => "pass", Verdict.Skip => "skip", _ => "fail" },
                    ["message"] = c.Message,
                    ["ktap"] = !c.Extra,
                });
            var r = o.Oracle;
            scenarios.Add(new JsonObject
            {
                ["name"] = o.Name,
                ["kind"] = o.Kind,
                ["passed"] = o.Failed == 0,
                ["timedOut"] = o.TimedOut,
                ["instructions"] = o.Instructions,
                ["wallSeconds"] = Math.Round(o.Wall.TotalSeconds, 3),
                ["virtualSeconds"] = o.VirtualNanoseconds is { } ns ? Math.Round(ns / 1e9, 6) : null,
                ["exit"] = new JsonObject { ["kind"] = o.Exit.Kind.ToString(), ["code"] = o.Exit.ExitCode, ["diagnostic"] = o.Exit.Diagnostic },
                ["counts"] = new JsonObject { ["passed"] = o.Passed, ["failed"] = o.Failed, ["skipped"] = o.Skipped },
                ["checks"] = checks,
                ["oracle"] = new JsonObject
                {
                    ["handovers"] = r.Handovers,
                    ["preservedBlocks"] = r.PreservedBlocks,
                    ["preservedBytes"] = r.PreservedBytes,
                    ["restoredBlocks"] = r.RestoredBlocks,
                    ["leftReserved"] = r.Unrestored,
                    ["deviceWrittenBlocks"] = r.DeviceWrittenBlocks,
                    ["dmaWritesChecked"] = r.DmaWritesChecked,
                    ["handoverProblem"] = r.HandoverProblem,
                    ["violations"] = new JsonArray(r.Violations.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                },
            });
        }
        return new JsonObject
        {
            ["started"] = started.ToString("o"),
            ["scenarios"] = scenarios,
            ["totals"] = new JsonObject
            {
                ["scenarios"] = outcomes.Count,
                ["passed"] = outcomes.Sum(o => o.Passed),
                ["failed"] = outcomes.Sum(o => o.Failed),
                ["skipped"] = outcomes.Sum(o => o.Skipped),
            },
        };
    }

    public static string Text(JsonObject report) => report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
