'use strict';
// The PNG: vega-lite spec -> vega view (headless) -> SVG -> PNG with resvg.
const fs = require('fs');

const STRATEGY_LABELS = {
  ours: 'ours (small files batched)',
  oursUnbatched: 'ours, 1 file per invocation',
  modulo: 'modulo shards',
  static: 'static LPT shards',
  bound: 'lower bound (brief)',
  floor: 'modelled floor',
};

function makeSpec(rows, mainSuite) {
  const makespans = [];
  for (const row of rows) {
    for (const key of Object.keys(STRATEGY_LABELS)) {
      makespans.push({
        suite: row.suite,
        N: `N = ${row.files.toLocaleString('en-US')}`,
        n: row.files,
        C: row.concurrency,
        strategy: STRATEGY_LABELS[key],
        makespanS: row[`${key}S`],
      });
    }
  }
  const ratios = rows.map((r) => ({
    N: `N = ${r.files.toLocaleString('en-US')}`,
    n: r.files,
    C: r.concurrency,
    suite: r.suite,
    ratio: r.oursOverBound,
    applies: r.boundTargetApplies ? 'bound > 30 s' : 'bound <= 30 s',
  }));
  const ratioMax = Math.max(1.2, ...ratios.map((r) => r.ratio)) * 1.1;
  const batching = rows
    .filter((r) => r.oursOverUnbatched !== null)
    .map((r) => ({ N: `N = ${r.files.toLocaleString('en-US')}`, n: r.files, C: r.concurrency, suite: r.suite, ratio: r.oursOverUnbatched }));
  const batchingDomain = [Math.min(0.95, ...batching.map((r) => r.ratio)) * 0.98, Math.max(1.05, ...batching.map((r) => r.ratio)) * 1.02];
  const suiteOrder = [mainSuite, ...[...new Set(rows.map((r) => r.suite))].filter((x) => x !== mainSuite)];
  const facetN = { field: 'N', type: 'nominal', sort: { field: 'n' }, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } };
  const xC = {
    field: 'C',
    type: 'quantitative',
    scale: { type: 'log', domain: [10, 1000] },
    axis: { values: [10, 50, 100, 500, 1000], format: 'd', labelOverlap: false, labelAngle: -45 },
    title: 'concurrency C',
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'DejaVu Sans', view: { stroke: '#ccc' }, legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 260 } },
    background: 'white',
    padding: 12,
    vconcat: [
      {
        title: { text: 'Simulated makespan (s, log) vs concurrency C, per real duration distribution (rows) and suite size N (columns)', fontSize: 15 },
        data: { values: makespans },
        facet: {
          column: facetN,
          row: {
            field: 'suite',
            type: 'nominal',
            sort: suiteOrder,
            title: null,
            header: { labelFontSize: 13, labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left' },
          },
        },
        spec: {
          width: 210,
          height: 130,
          // Ours is drawn last, on top: it often coincides with the floor or another strategy.
          layer: ['others', 'ours'].map((which) => ({
            transform: [{ filter: which === 'ours' ? `datum.strategy === '${STRATEGY_LABELS.ours}'` : `datum.strategy !== '${STRATEGY_LABELS.ours}'` }],
            mark: { type: 'line', point: true, strokeWidth: which === 'ours' ? 2.5 : 2 },
            encoding: {
              x: xC,
              y: { field: 'makespanS', type: 'quantitative', scale: { type: 'log' }, title: 'makespan (s)' },
              color: {
                field: 'strategy',
                type: 'nominal',
                title: 'strategy',
                scale: { domain: Object.values(STRATEGY_LABELS), range: ['#1f77b4', '#17becf', '#d62728', '#ff7f0e', '#2ca02c', '#7f7f7f'] },
              },
              strokeDash: {
                field: 'strategy',
                type: 'nominal',
                scale: {
                  domain: Object.values(STRATEGY_LABELS),
                  range: [
                    [1, 0],
                    [3, 2],
                    [1, 0],
                    [1, 0],
                    [6, 3],
                    [2, 2],
                  ],
                },
              },
            },
          })),
        },
        resolve: { scale: { y: 'independent' } },
      },
      {
        title: { text: 'ours (batched) / lower bound, every suite (target: <= 1.1, dashed line, where the bound is above 30 s: squares)', fontSize: 15 },
        data: { values: ratios },
        facet: { column: facetN },
        spec: {
          width: 210,
          height: 200,
          layer: [
            {
              mark: { type: 'line', strokeWidth: 1.5 },
              encoding: {
                x: xC,
                y: {
                  field: 'ratio',
                  type: 'quantitative',
                  scale: { type: 'log', domain: [1, ratioMax], nice: false },
                  axis: { values: [1, 1.1, 1.5, 2, 3, 5, 10, 20, 50].filter((v) => v <= ratioMax) },
                  title: 'ours / bound (log)',
                },
                color: { field: 'suite', type: 'nominal', title: 'suite', scale: { domain: suiteOrder, scheme: 'tableau10' } },
              },
            },
            {
              mark: { type: 'point', filled: true, size: 70, opacity: 1 },
              encoding: {
                x: xC,
                y: { field: 'ratio', type: 'quantitative' },
                color: { field: 'suite', type: 'nominal', scale: { domain: suiteOrder, scheme: 'tableau10' } },
                shape: {
                  field: 'applies',
                  type: 'nominal',
                  title: 'target applies?',
                  scale: { domain: ['bound > 30 s', 'bound <= 30 s'], range: ['square', 'triangle-up'] },
                },
              },
            },
            { mark: { type: 'rule', color: 'black', strokeDash: [4, 3] }, encoding: { y: { datum: 1.1 } } },
          ],
        },
      },
      {
        title: { text: 'What batching does: ours (small files batched) / ours (one file per invocation); below 1 = batching is faster', fontSize: 15 },
        data: { values: batching },
        facet: { column: facetN },
        spec: {
          width: 210,
          height: 160,
          layer: [
            {
              mark: { type: 'line', point: true, strokeWidth: 1.5 },
              encoding: {
                x: xC,
                y: { field: 'ratio', type: 'quantitative', scale: { domain: batchingDomain, nice: false }, title: 'batched / unbatched' },
                color: { field: 'suite', type: 'nominal', title: 'suite', scale: { domain: suiteOrder, scheme: 'tableau10' } },
              },
            },
            { mark: { type: 'rule', color: 'black', strokeDash: [4, 3] }, encoding: { y: { datum: 1 } } },
          ],
        },
      },
    ],
    resolve: {
      scale: { color: 'independent', strokeDash: 'independent', shape: 'independent', size: 'independent' },
      legend: { color: 'independent', shape: 'independent' },
    },
  };
}

async function renderPng(rows, mainSuite, outPath) {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const spec = vl.compile(makeSpec(rows, mainSuite)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const { Resvg } = require('@resvg/resvg-js');
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  fs.writeFileSync(outPath, png);
  return { svgBytes: svg.length, pngBytes: png.length };
}

module.exports = { makeSpec, renderPng };
