// Preloaded into dynalite (node -r scripts/dynalite-guard.js .../cli.js) by
// the test bed, the benchmarks and the demo.
//
// dynalite 4.0.0 rethrows a request's 'error' event (index.js:
// req.on('error', function (err) { throw err })), so a client that goes away
// while it is still sending a request body (a cairn server killed in the
// middle of a BatchWriteItem, as the crash tests do) takes the whole dynalite
// process down with "Error: aborted" (ECONNRESET). DynamoDB just drops such a
// request; with this guard dynalite does too. Every other uncaught exception
// still ends the process as Node would.
'use strict'
process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error('dynalite-guard: dropped a request its client aborted (' + err.message + ')')
    return
  }
  console.error((err && err.stack) || err)
  process.exit(1)
})
