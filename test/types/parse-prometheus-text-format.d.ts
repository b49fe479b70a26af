// Types of parse-prometheus-text-format (it ships none): the exposition text as prom2json shows it.
// Every figure stays text, as written ("3", "+Inf"). A histogram or summary family is flattened
// into one entry of buckets (or quantiles), count and sum, which only works for one without labels:
// with labels, the package keeps the last series' buckets and drops every count and sum.
declare module 'parse-prometheus-text-format' {
  namespace parsePrometheusTextFormat {
    interface Sample {
      readonly labels?: Readonly<Record<string, string>>;
      /** Counters, gauges and untyped samples. */
      readonly value?: string;
      /** A histogram's cumulative buckets, by upper bound ("0.005", "+Inf"). */
      readonly buckets?: Readonly<Record<string, string>>;
      /** A summary's quantiles. */
      readonly quantiles?: Readonly<Record<string, string>>;
      readonly count?: string;
      readonly sum?: string;
    }

    interface MetricFamily {
      readonly name: string;
      readonly help: string;
      readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
      readonly metrics: readonly Sample[];
    }
  }

  /** Parses the text format; throws on a line it cannot read. */
  function parsePrometheusTextFormat(text: string): parsePrometheusTextFormat.MetricFamily[];

  export = parsePrometheusTextFormat;
}
