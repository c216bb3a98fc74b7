// Promise.withResolvers for Node 20: js-ipfs 0.66's dependencies call it (Node 22 has it).
// Loaded with `node -r ./polyfill.cjs`.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
