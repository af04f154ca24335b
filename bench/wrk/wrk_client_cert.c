/* LD_PRELOAD shim: give wrk (or any OpenSSL 3 client) a TLS client certificate.
 * wrk has no client-cert option; this wraps SSL_CTX_new and loads the PEM chain and key
 * named by WRK_CLIENT_CERT / WRK_CLIENT_KEY (and trusts WRK_CA if set) into every context.
 * Build: gcc -shared -fPIC -O2 -o wrk_client_cert.so wrk_client_cert.c -ldl -lssl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
    static SSL_CTX *(*real)(const SSL_METHOD *) = NULL;
    if (!real) real = (SSL_CTX *(*)(const SSL_METHOD *))dlsym(RTLD_NEXT, "SSL_CTX_new");
    SSL_CTX *ctx = real(method);
    const char *cert = getenv("WRK_CLIENT_CERT"), *key = getenv("WRK_CLIENT_KEY");
    if (ctx && cert && key) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "wrk_client_cert: cannot load %s / %s\n", cert, key);
            exit(3);
        }
    }
    return ctx;
}
