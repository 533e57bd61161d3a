const { name, version } = require('./package.json');

module.exports = {
  presets: [['@babel/preset-env', { targets: { node: 'current' } }]],
  plugins: [
    // The values are passed as plugin options (rather than read inside the plugin)
    // so that they are part of babel-jest's cache key.
    [
      './babel-plugin-inline-version.js',
      {
        replacements: {
          __APP_NAME__: name,
          __APP_VERSION__: version,
        },
      },
    ],
  ],
};
