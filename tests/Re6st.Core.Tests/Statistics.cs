namespace Re6st.Core.Tests;

/// <summary>
/// Goodness-of-fit checks for the statistical tests. Every test uses fixed seeds, so a check
/// either always passes or always fails; the thresholds say how unlikely a failure would be for
/// a correct implementation with an unlucky seed.
/// </summary>
internal static class Statistics
{
    /// <summary>Significance of the chi-square tests: a correct sampler fails one in a thousand seeds.</summary>
    public const double Alpha = 0.001;

    /// <summary>Tolerance of the proportion tests, in standard deviations (two-sided false alarm rate below 6e-7).</summary>
    public const double Sigmas = 5;

    /// <summary>
    /// Checks counts from <paramref name="trials"/> draws of <paramref name="perTrial"/> distinct
    /// categories each, against "every subset of that size is equally likely". Within one trial the
    /// draws are without replacement, which makes the counts less spread than a multinomial: the
    /// Pearson statistic times (n-1)/(n-k) follows chi-square with n-1 degrees of freedom.
    /// </summary>
    public static void AssertUniformSubsets(ReadOnlySpan<long> observed, long trials, int perTrial, string what)
    {
        var n = observed.Length;
        var total = 0L;
        foreach (var o in observed)
        {
            total += o;
        }

        Assert.Equal(trials * perTrial, total);
        var expected = (double)total / n;
        var pearson = 0.0;
        foreach (var o in observed)
        {
            pearson += (o - expected) * (o - expected) / expected;
        }

        var corrected = pearson * (n - 1) / (n - perTrial);
        var p = ChiSquareUpperTail(corrected, n - 1);
        Assert.True(
            p > Alpha,
            $"{what}: chi-square {corrected:F1} with {n - 1} degrees of freedom, p = {p:G3} (below {Alpha}); counts {string.Join(",", observed.ToArray())}");
    }

    /// <summary>Checks a count of successes among independent trials of known probabilities, within <see cref="Sigmas"/> standard deviations.</summary>
    public static void AssertCount(long observed, double expected, double variance, string what)
    {
        var sd = Math.Sqrt(variance);
        Assert.True(
            Math.Abs(observed - expected) <= Sigmas * sd,
            $"{what}: observed {observed}, expected {expected:F1} ± {Sigmas * sd:F1} ({Sigmas} standard deviations of {sd:F2})");
    }

    /// <summary>Binomial case of <see cref="AssertCount"/>.</summary>
    public static void AssertProportion(long successes, long trials, double probability, string what) =>
        AssertCount(successes, trials * probability, trials * probability * (1 - probability), what);

    /// <summary>P(X ≥ x) for X chi-square with <paramref name="degreesOfFreedom"/>: the regularized upper gamma Q(k/2, x/2).</summary>
    public static double ChiSquareUpperTail(double x, int degreesOfFreedom)
    {
        var a = degreesOfFreedom / 2.0;
        var z = x / 2.0;
        if (z <= 0)
        {
            return 1;
        }

        return z < a + 1 ? 1 - LowerGammaSeries(a, z) : UpperGammaFraction(a, z);
    }

    // Numerical Recipes (6.2): the series converges fast for z < a + 1, the continued fraction beyond.
    private static double LowerGammaSeries(double a, double z)
    {
        var term = 1 / a;
        var sum = term;
        for (var n = 1; n < 10_000; n++)
        {
            term *= z / (a + n);
            sum += term;
            if (Math.Abs(term) < Math.Abs(sum) * 1e-15)
            {
                break;
            }
        }

        return sum * Math.Exp(-z + (a * Math.Log(z)) - LogGamma(a));
    }

    private static double UpperGammaFraction(double a, double z)
    {
        const double Tiny = 1e-300;
        var b = z + 1 - a;
        var c = 1 / Tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }

        return Math.Exp(-z + (a * Math.Log(z)) - LogGamma(a)) * h;
    }

    // Lanczos approximation (g = 7, 9 terms): about 15 significant digits for x >= 0.5.
    private static double LogGamma(double x)
    {
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7,
        ];
        x -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++)
        {
            sum += c[i] / (x + i);
        }

        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
