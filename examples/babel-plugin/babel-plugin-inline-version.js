/**
 * Replaces free identifiers such as `__APP_VERSION__` with string literals.
 *
 * Options: { replacements: { [identifier]: string } }
 *
 * Identifiers that are shadowed by a local binding, used as property names or
 * assigned to are left alone.
 */
module.exports = function inlineVersionPlugin({ types: t }) {
  return {
    name: 'inline-version',
    visitor: {
      Identifier(path, state) {
        const replacements = state.opts.replacements || {};
        const { name } = path.node;
        if (!Object.prototype.hasOwnProperty.call(replacements, name)) return;
        if (!path.isReferencedIdentifier()) return;
        if (path.scope.hasBinding(name, /* noGlobals */ true)) return;
        if (path.parentPath.isAssignmentExpression({ left: path.node })) return;
        const value = replacements[name];
        if (typeof value !== 'string') {
          throw path.buildCodeFrameError(`inline-version: replacement for ${name} must be a string`);
        }
        path.replaceWith(t.stringLiteral(value));
      },
    },
  };
};
