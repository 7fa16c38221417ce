/**
 * CloudWatch's dashboard quotas, checked on the dashboard of a synthesized cluster stack: what
 * CloudFormation's PutDashboard call would refuse, or a graph would silently fail to draw.
 *
 * From the CloudWatch user guide ("CloudWatch service quotas", Dashboards) and API reference
 * ("Dashboard Body Structure and Syntax", GetMetricData): up to 500 widgets per dashboard, up to
 * 500 metrics per graph widget and 2,500 per dashboard (the metrics a math expression reads count,
 * drawn or not), up to 100 alarms per alarm status widget, a metric math expression of at most
 * 1,024 characters, and a metric math alarm of at most 10 metrics. CloudWatch publishes no size
 * limit of the body itself; it is a property of the cluster stack's template, whose limit is
 * CloudFormation's (1 MB, CLOUDFORMATION_MAX_TEMPLATE_BYTES).
 */
export const DASHBOARD_MAX_WIDGETS = 500;
export const DASHBOARD_MAX_METRICS_PER_WIDGET = 500;
export const DASHBOARD_MAX_METRICS = 2500;
export const DASHBOARD_MAX_ALARMS_PER_WIDGET = 100;
export const METRIC_MATH_MAX_EXPRESSION_LENGTH = 1024;
export const ALARM_MAX_MATH_METRICS = 10;
/** A template uploaded through S3, as CDK deploys it (CloudFormation quotas: "Template body size in an Amazon S3 object"). */
export const CLOUDFORMATION_MAX_TEMPLATE_BYTES = 1024 * 1024;

type Resources = Record<string, { Type: string; Properties?: any }>;

export interface DashboardWidget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}

/**
 * The widgets of the template's dashboard. The body is a Fn::Join of JSON text around references
 * (alarm ARNs): each reference reads as a placeholder ARN.
 */
export function dashboardWidgets(resources: Resources): DashboardWidget[] {
  const dashboards = Object.values(resources).filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) throw new Error(`Expected one dashboard, found ${dashboards.length}`);
  const body = dashboards[0]!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'arn:alarm')).join(body['Fn::Join'][0]);
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}

/** Every math expression of a widget's metrics (an entry's options object with `expression`). */
function expressionsOf(widget: DashboardWidget): string[] {
  return (widget.properties.metrics ?? []).flatMap((entry) =>
    entry.flatMap((part) => (part !== null && typeof part === 'object' && typeof (part as { expression?: unknown }).expression === 'string' ? [(part as { expression: string }).expression] : [])),
  );
}

/** What of the dashboard's widgets breaks CloudWatch's quotas, one line each (none: within them). */
export function dashboardProblems(widgets: readonly DashboardWidget[]): string[] {
  const problems: string[] = [];
  if (widgets.length > DASHBOARD_MAX_WIDGETS) problems.push(`${widgets.length} widgets, over ${DASHBOARD_MAX_WIDGETS}`);
  let metrics = 0;
  for (const widget of widgets) {
    const name = `${widget.type} widget '${widget.properties.title ?? ''}'`;
    // Each entry of `metrics` is one metric retrieved or one expression: hidden ones an expression reads count too.
    const count = widget.properties.metrics?.length ?? 0;
    metrics += count;
    if (count > DASHBOARD_MAX_METRICS_PER_WIDGET) problems.push(`${name}: ${count} metrics, over ${DASHBOARD_MAX_METRICS_PER_WIDGET}`);
    for (const expression of expressionsOf(widget)) {
      if (expression.length > METRIC_MATH_MAX_EXPRESSION_LENGTH) problems.push(`${name}: an expression of ${expression.length} characters, over ${METRIC_MATH_MAX_EXPRESSION_LENGTH}`);
    }
    const alarms = widget.properties.alarms?.length ?? 0;
    if (widget.type === 'alarm' && (alarms < 1 || alarms > DASHBOARD_MAX_ALARMS_PER_WIDGET)) problems.push(`${name}: ${alarms} alarms, not 1-${DASHBOARD_MAX_ALARMS_PER_WIDGET}`);
  }
  if (metrics > DASHBOARD_MAX_METRICS) problems.push(`${metrics} metrics in all, over ${DASHBOARD_MAX_METRICS}`);
  return problems;
}

/** The alarms of the template reading more metrics through math than CloudWatch allows one alarm, one line each. */
export function alarmMathProblems(resources: Resources): string[] {
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm' && Array.isArray(resource.Properties?.Metrics))
    .flatMap(([id, resource]) => {
      const read = (resource.Properties.Metrics as { MetricStat?: unknown }[]).filter((metric) => metric.MetricStat).length;
      return read > ALARM_MAX_MATH_METRICS ? [`${id}: ${read} metrics, over ${ALARM_MAX_MATH_METRICS}`] : [];
    });
}
