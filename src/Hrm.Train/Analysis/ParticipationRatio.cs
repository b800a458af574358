using System.Numerics;

namespace Hrm.Train.Analysis;

/// <summary>
/// The participation ratio of a set of samples: PR = (Σλ)² / Σλ² over the eigenvalues λ of their covariance C,
/// which is (tr C)² / ‖C‖_F², so no eigensolver is needed. PR is 1 when all variance lies along one direction and
/// k when it is spread evenly over k orthogonal directions. With fewer samples than dimensions the n x n Gram
/// matrix of the centred samples is used instead of the d x d covariance: it has the same non-zero eigenvalues (up
/// to the 1/(n-1) factor, which cancels in the ratio). Everything is accumulated in double.
/// </summary>
public static class ParticipationRatio
{
    /// <summary>The largest min(samples, dimensions) accepted: the accumulated matrix is that square, in double.</summary>
    public const int MaxRank = 8192;

    private const int Chunk = 128;   // columns of the centred matrix gathered per pass

    /// <summary>PR from the trace and squared Frobenius norm of a covariance (or Gram) matrix.</summary>
    /// <returns>The ratio, or NaN when the trace is 0 (no variance).</returns>
    public static double FromMoments(double trace, double frobeniusSquared) =>
        frobeniusSquared > 0 ? trace * trace / frobeniusSquared : double.NaN;

    /// <summary>
    /// PR of the sample covariance of <paramref name="n"/> samples of <paramref name="d"/> values each
    /// (<paramref name="samples"/> is row-major (n, d); it is not changed).
    /// </summary>
    /// <returns>The ratio, or NaN when every sample is the same.</returns>
    /// <exception cref="ArgumentException">Fewer than 2 samples, a length that is not n·d, or min(n, d) above
    /// <see cref="MaxRank"/>.</exception>
    public static double OfSamples(float[] samples, int n, int d)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (n < 2 || d < 1) throw new ArgumentException($"the participation ratio needs at least 2 samples of at least 1 value; got {n} of {d}");
        if (samples.LongLength != (long)n * d)
            throw new ArgumentException($"expected n·d = {n}·{d} = {(long)n * d} values, got {samples.LongLength}", nameof(samples));
        bool gram = n <= d;
        int r = gram ? n : d, other = gram ? d : n;
        if (r > MaxRank)
        {
            throw new ArgumentException(
                $"min(samples, dimensions) = {r} is above {MaxRank} (the {r} x {r} matrix would not fit); use fewer samples");
        }
        double[] mean = Mean(samples, n, d);
        var acc = new double[(long)r * r];        // (r, r) upper triangle of Xc Xcᵀ (Gram) or Xcᵀ Xc (covariance)
        var y = new double[(long)r * Chunk];      // (r, Chunk) the next columns of the product's factor
        for (int k0 = 0; k0 < other; k0 += Chunk)
        {
            int len = Math.Min(Chunk, other - k0);
            Gather(samples, mean, d, gram, r, k0, len, y);
            AddProducts(y, r, len, acc);
        }
        double trace = 0, frob = 0;
        for (int i = 0; i < r; i++)
        {
            double v = acc[(long)i * r + i];
            trace += v;
            frob += v * v;
            for (int j = i + 1; j < r; j++) frob += 2 * acc[(long)i * r + j] * acc[(long)i * r + j];
        }
        return FromMoments(trace, frob);
    }

    private static double[] Mean(float[] samples, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = samples.AsSpan((int)((long)i * d), d);
            for (int k = 0; k < d; k++) mean[k] += row[k];
        }
        for (int k = 0; k < d; k++) mean[k] /= n;
        return mean;
    }

    // Writes y (r, len): the centred samples' columns k0.. (Gram: y[i, c] = x[i, k0 + c]) or, for the covariance,
    // the transposed rows k0.. (y[k, c] = x[k0 + c, k]); the rest of each row of y is zeroed.
    private static void Gather(float[] x, double[] mean, int d, bool gram, int r, int k0, int len, double[] y)
    {
        Array.Clear(y);
        for (int i = 0; i < (gram ? r : len); i++)
        {
            long row = (long)(gram ? i : k0 + i) * d;
            if (gram)
            {
                for (int c = 0; c < len; c++) y[(long)i * Chunk + c] = x[row + k0 + c] - mean[k0 + c];
            }
            else
            {
                for (int k = 0; k < d; k++) y[(long)k * Chunk + i] = x[row + k] - mean[k];
            }
        }
    }

    // acc[i, j] += y[i, :] · y[j, :] for j >= i; rows split over threads (each row of acc has one writer).
    private static void AddProducts(double[] y, int r, int len, double[] acc)
    {
        Parallel.For(0, r, i =>
        {
            ReadOnlySpan<double> a = y.AsSpan((int)((long)i * Chunk), len);
            Span<double> dst = acc.AsSpan().Slice((int)((long)i * r), r);
            int j = i;
            for (; j + 4 <= r; j += 4)
            {
                (double d0, double d1, double d2, double d3) = Dot4(a, y.AsSpan((int)((long)j * Chunk), 4 * Chunk), len);
                dst[j] += d0;
                dst[j + 1] += d1;
                dst[j + 2] += d2;
                dst[j + 3] += d3;
            }
            for (; j < r; j++) dst[j] += Dot(a, y.AsSpan((int)((long)j * Chunk), len));
        });
    }

    // a · b[c·Chunk ..] for the four rows c = 0..3 of b, sharing the loads of a.
    private static (double, double, double, double) Dot4(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int len)
    {
        int w = Vector<double>.Count, k = 0;
        Vector<double> s0 = Vector<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (; k + w <= len; k += w)
        {
            var x = new Vector<double>(a[k..]);
            s0 = Vector.FusedMultiplyAdd(x, new Vector<double>(b[k..]), s0);
            s1 = Vector.FusedMultiplyAdd(x, new Vector<double>(b[(Chunk + k)..]), s1);
            s2 = Vector.FusedMultiplyAdd(x, new Vector<double>(b[(2 * Chunk + k)..]), s2);
            s3 = Vector.FusedMultiplyAdd(x, new Vector<double>(b[(3 * Chunk + k)..]), s3);
        }
        double d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
        for (; k < len; k++)
        {
            d0 += a[k] * b[k];
            d1 += a[k] * b[Chunk + k];
            d2 += a[k] * b[2 * Chunk + k];
            d3 += a[k] * b[3 * Chunk + k];
        }
        return (d0, d1, d2, d3);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int w = Vector<double>.Count, k = 0;
        Vector<double> s0 = Vector<double>.Zero, s1 = Vector<double>.Zero;
        for (; k + 2 * w <= a.Length; k += 2 * w)
        {
            s0 = Vector.FusedMultiplyAdd(new Vector<double>(a[k..]), new Vector<double>(b[k..]), s0);
            s1 = Vector.FusedMultiplyAdd(new Vector<double>(a[(k + w)..]), new Vector<double>(b[(k + w)..]), s1);
        }
        double s = Vector.Sum(s0 + s1);
        for (; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }
}
