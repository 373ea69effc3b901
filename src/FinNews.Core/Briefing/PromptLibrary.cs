using System.Text;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Briefing;

/// <summary>
/// The one loader of the prompt files in Briefing/Prompts (embedded resources), and the Semantic Kernel prompt
/// functions built from them: the writer's section prompt and its two repair rounds, and the answerer's ask prompt.
/// </summary>
/// <remarks>
/// Each function is a chat template: a system message (a constant file) and user turns (files with
/// <c>{{$variable}}</c> slots), with an assistant turn where a repair round replays the model's reply. Only variables
/// carry run-time text, and Semantic Kernel HTML-encodes every variable value before the template is parsed into
/// messages (<c>AllowDangerouslySetContent</c> stays off), so nothing in a value (feed text, a question, a model
/// reply) can open a message of its own or reach the system prompt. Feed text is put only into <c>{{$sources}}</c>,
/// already fenced and entity-escaped (<see cref="LlmWriter.FenceSources"/>), or reaches the model as a tool result.
/// </remarks>
public static class PromptLibrary
{
    /// <summary>Name of the answerer's prompt function (the citation filter validates its output).</summary>
    public const string AskFunctionName = "ask";

    private static readonly Lazy<Dictionary<string, string>> Files = new(Load);

    /// <summary>The writer's system prompt (Prompts/system.txt).</summary>
    public static string WriterSystem => Text("system");

    /// <summary>The answerer's system prompt (Prompts/answer.txt).</summary>
    public static string AnswerSystem => Text("answer");

    /// <summary>The writer: one section from fenced sources. Arguments: <see cref="SectionPromptArguments"/>.</summary>
    public static KernelFunction WriteSection { get; } = Conversation("write_section", "system", "section");

    /// <summary>The writer's repair round for an unreadable reply. Arguments: <see cref="FormatRepairArguments"/>.</summary>
    public static KernelFunction RepairFormat { get; } = Conversation("repair_format", "system", "section", "@reply", "repair-format");

    /// <summary>The writer's repair round for statements that failed citation checks. Arguments: <see cref="SectionRepairArguments"/>.</summary>
    public static KernelFunction RepairSection { get; } = Conversation("repair_section", "system", "section", "@reply", "repair");

    /// <summary>The answerer, which plans its retrieval with tools. Arguments: <see cref="AskPromptArguments"/>.</summary>
    public static KernelFunction Ask { get; } = Conversation(AskFunctionName, "answer", "ask");

    /// <summary>A prompt file's text (trimmed, LF line ends).</summary>
    public static string Text(string name) =>
        Files.Value.TryGetValue(name, out var text) ? text : throw new InvalidOperationException($"Embedded prompt Briefing/Prompts/{name}.txt is missing.");

    /// <summary>
    /// A prompt function from files: <paramref name="system"/> is the system message; each turn is a user message from
    /// a file, or <c>@variable</c> for an assistant message holding that variable.
    /// </summary>
    public static KernelFunction Conversation(string name, string system, params string[] turns)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var template = new StringBuilder().Append("<message role=\"system\">").Append(XmlText(Text(system))).Append("</message>\n");
        var variables = new List<string>();
        foreach (var turn in turns)
        {
            if (turn.StartsWith('@'))
            {
                template.Append("<message role=\"assistant\">{{$").Append(turn[1..]).Append("}}</message>\n");
                variables.Add(turn[1..]);
                continue;
            }

            var text = Text(turn);
            template.Append("<message role=\"user\">").Append(XmlText(text)).Append("</message>\n");
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\{\{\$(\w+)\}\}"))
            {
                variables.Add(m.Groups[1].Value);
            }
        }

        var config = new PromptTemplateConfig(template.ToString())
        {
            Name = name,
            Description = $"FinNews prompt {name} ({system}: {string.Join(", ", turns)})",
            TemplateFormat = PromptTemplateConfig.SemanticKernelTemplateFormat,
            InputVariables = variables.Distinct(StringComparer.Ordinal)
                .Select(v => new InputVariable { Name = v, IsRequired = true, AllowDangerouslySetContent = false }).ToList(),
        };
        return KernelFunctionFactory.CreateFromPrompt(config);
    }

    // The template is parsed as XML into messages: the literal text of a prompt file is escaped for that.
    private static string XmlText(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static Dictionary<string, string> Load()
    {
        var assembly = typeof(PromptLibrary).Assembly;
        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        const string prefix = "FinNews.Core.Briefing.Prompts.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            prompts[resource[prefix.Length..^".txt".Length]] = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
        }

        return prompts;
    }
}

/// <summary>The writer's section prompt: the section title, its fenced sources, the reply format.</summary>
public sealed record SectionPromptArguments(string Section, string Sources, string Format)
{
    /// <summary>As kernel arguments with the call's execution settings.</summary>
    public KernelArguments ToKernelArguments(PromptExecutionSettings settings) => new(settings)
    {
        ["section"] = Section,
        ["sources"] = Sources,
        ["format"] = Format,
    };
}

/// <summary>The writer's repair round for an unreadable reply.</summary>
public sealed record FormatRepairArguments(SectionPromptArguments Section, string Reply, string Error)
{
    /// <summary>As kernel arguments with the call's execution settings.</summary>
    public KernelArguments ToKernelArguments(PromptExecutionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(Section);
        var args = Section.ToKernelArguments(settings);
        args["reply"] = Reply;
        args["error"] = Error;
        return args;
    }
}

/// <summary>The writer's repair round for statements that failed citation checks.</summary>
public sealed record SectionRepairArguments(SectionPromptArguments Section, string Reply, string Problems)
{
    /// <summary>As kernel arguments with the call's execution settings.</summary>
    public KernelArguments ToKernelArguments(PromptExecutionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(Section);
        var args = Section.ToKernelArguments(settings);
        args["reply"] = Reply;
        args["problems"] = Problems;
        return args;
    }
}

/// <summary>The answerer's prompt: the question and the point in time it is asked at.</summary>
public sealed record AskPromptArguments(string Question, string Scope)
{
    /// <summary>As kernel arguments with the call's execution settings.</summary>
    public KernelArguments ToKernelArguments(PromptExecutionSettings settings) => new(settings)
    {
        ["question"] = Question,
        ["scope"] = Scope,
    };
}
