using System.Text.RegularExpressions;
using CourseLib.Interactive;

namespace CourseLib.Interactive.Tests;

public class ArrayHtmlTests
{
    [Fact]
    public void Vector_Short_ShowsEveryValueWithFourSignificantDigits()
    {
        string html = ArrayHtml.Vector(new[] { 1f, 0.333333f, -12345.6f }, "float");

        Assert.Contains("float[3]", html, StringComparison.Ordinal);
        Assert.Contains(">0.3333<", html, StringComparison.Ordinal);
        Assert.Contains(">-1.235E+04<", html, StringComparison.Ordinal);
        Assert.DoesNotContain("…", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Vector_Long_ElidesTheMiddleAndKeepsBothEnds()
    {
        var v = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();

        string html = ArrayHtml.Vector(v, "double");

        Assert.Contains("double[100]", html, StringComparison.Ordinal);
        Assert.Equal(ArrayHtml.MaxShown + 1, Regex.Count(html, "<td"));
        Assert.Contains(">0<", html, StringComparison.Ordinal);
        Assert.Contains(">99<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">50<", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Matrix_TallAndWide_ElidesRowsAndColumnsWithIndices()
    {
        var m = new float[20, 30];
        m[19, 29] = 7f;

        string html = ArrayHtml.Matrix(m, "float");

        Assert.Contains("float[20, 30]", html, StringComparison.Ordinal);
        Assert.Equal(ArrayHtml.MaxShown + 2, Regex.Count(html, "<tr>")); // header + shown rows + ⋮ row
        Assert.Contains(">⋱<", html, StringComparison.Ordinal);
        Assert.Contains(">29</th>", html, StringComparison.Ordinal);
        Assert.Contains(">19</th>", html, StringComparison.Ordinal);
        Assert.Contains(">7<", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(3, new[] { 0, 1, 2 })]
    [InlineData(14, new[] { 0, 1, 2, 3, 4, 5, -1, 8, 9, 10, 11, 12, 13 })]
    public void ShownIndices_Length_GivesHeadElisionTail(int n, int[] expected)
    {
        Assert.Equal(expected, ArrayHtml.ShownIndices(n));
    }
}
