/* Unit tests of URL grouping (the default `name` tag). */
#include "../check.h"
#include "urlname.h"

static void expect(const char *url, const char *want)
{
    char out[256];
    tide_url_group(url, out, sizeof out);
    CHECK_STR(out, want);
}

int main(void)
{
    expect("http://127.0.0.1:8080/api/projects/42", "/api/projects/{id}");
    expect("/api/projects/42?x=1", "/api/projects/{id}");
    expect("http://h/api/projects/550e8400-e29b-41d4-a716-446655440000/tasks",
           "/api/projects/{id}/tasks");
    expect("http://h/objects/5f2b8c9e1a3d4e6f7a8b9c0d", "/objects/{id}");
    expect("http://h/api/search?q=foo", "/api/search");
    expect("http://h", "/");
    expect("http://h/", "/");
    expect("/health#frag", "/health");
    expect("/api/v2/users/7/orders/99", "/api/v2/users/{id}/orders/{id}");
    expect("/static/app.js", "/static/app.js");
    expect("/tokens/a8Fk29xQ0pLmZZ77", "/tokens/{id}");
    expect("/api/projects", "/api/projects");
    return CHECK_DONE();
}
