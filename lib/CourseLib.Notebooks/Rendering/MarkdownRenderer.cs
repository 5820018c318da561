using System.Text;
using Markdig;
using Markdig.Extensions.Mathematics;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace CourseLib.Notebooks.Rendering;

/// <summary>Markdown cells to HTML: CommonMark plus tables, math, task lists and heading anchors.</summary>
internal static class MarkdownRenderer
{
    private static readonly MarkdownPipeline s_pipeline = new MarkdownPipelineBuilder()
        .UseMathematics()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseAutoLinks()
        .UseTaskLists()
        .UseFootnotes()
        .UseAutoIdentifiers()
        .Build();

    /// <summary>
    /// HTML for one markdown cell. Math comes out as <c>&lt;span class="math"&gt;\(…\)&lt;/span&gt;</c> (inline) or
    /// <c>&lt;div class="math"&gt;\[…\]&lt;/div&gt;</c> (block) for KaTeX to typeset in the browser.
    /// </summary>
    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, s_pipeline);
        // "$$x$$" inside a paragraph is display math in Polyglot Notebooks and Jupyter; Markdig parses it as
        // inline math with two delimiters, so we mark it for the page script to typeset in display mode.
        foreach (var math in document.Descendants<MathInline>())
        {
            if (math.DelimiterCount >= 2)
            {
                math.GetAttributes().AddClass("math-display");
            }
        }
        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        s_pipeline.Setup(renderer);
        renderer.Render(document);
        return writer.ToString();
    }

    /// <summary>The text of the first heading (any level) in <paramref name="markdown"/>, or null.</summary>
    public static string? FirstHeading(string markdown)
    {
        var heading = Markdown.Parse(markdown, s_pipeline).Descendants<HeadingBlock>().FirstOrDefault();
        if (heading?.Inline is null)
        {
            return null;
        }
        var text = new StringBuilder();
        AppendText(heading.Inline, text);
        string title = text.ToString().Trim();
        return title.Length == 0 ? null : title;
    }

    private static void AppendText(ContainerInline container, StringBuilder text)
    {
        foreach (var inline in container)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case MathInline math:
                    text.Append(math.Content.ToString());
                    break;
                case LineBreakInline:
                    text.Append(' ');
                    break;
                case ContainerInline nested:
                    AppendText(nested, text);
                    break;
            }
        }
    }
}
