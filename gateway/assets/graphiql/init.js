// GraphiQL for the ECL API: queries and mutations over POST /graphql, subscriptions over
// WebSocket (graphql-transport-ws, the protocol of /graphql/ws). GraphiQL passes the headers
// tab's contents as the connection_init payload, which is where the server reads
// {"Authorization": "Bearer …"} or {"X-Api-Key": "ecl_…"} for a subscription.
(function () {
  'use strict';
  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
  var fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: wsUrl });
  var defaultQuery = [
    '# ECL partner platform API. Sign in, then put the token in the Headers tab:',
    '#   {"Authorization": "Bearer <accessToken>"}',
    '# Subscriptions (contractEvents) run over ' + wsUrl + ' with the same headers.',
    '# The partner portal is at /portal/.',
    '',
    'mutation {',
    '  signIn(loginId: "operator", password: "…") {',
    '    accessToken',
    '    tfaRequired',
    '    challenge',
    '  }',
    '}',
    '',
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
